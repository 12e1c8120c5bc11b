package catena.it.helm;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Renders the chart in {@code helm/} with the Helm embedded in helm-java and parses the output
 * into typed fabric8 objects, so tests assert on what Kubernetes would receive.
 */
public final class ChartRenderer {
    public static final String RELEASE = "demo";
    public static final String NAMESPACE = "infer";
    /** Native gRPC probes need 1.27+ (Chart.yaml kubeVersion); Helm's offline default is 1.20. */
    static final String KUBE_VERSION = "v1.32.0";

    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private final Path chart;

    ChartRenderer(Path chart) {
        this.chart = chart;
    }

    /** The chart at {@code <repository>/helm}; the tests run with {@code it-tests} as working directory. */
    public static ChartRenderer forRepository() {
        Path chart = Path.of(System.getProperty("user.dir")).toAbsolutePath().resolveSibling("helm");
        if (!Files.isRegularFile(chart.resolve("Chart.yaml"))) {
            throw new IllegalStateException("Helm chart not found: expected " + chart.resolve("Chart.yaml"));
        }
        return new ChartRenderer(chart);
    }

    Helm helm() {
        return new Helm(chart);
    }

    /** {@code helm template demo helm/ -n infer --set k=v ...}; the raw multi-document YAML. */
    public String template(Map<String, Object> sets) {
        TemplateCommand command = helm().template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        sets.forEach(command::set);
        return command.call();
    }

    /** Rendered objects, each parsed into its fabric8 class (Deployment, StatefulSet, ...). */
    public List<HasMetadata> render(Map<String, Object> sets) {
        return parse(template(sets));
    }

    /** Annotation that marks a Helm hook; {@link #hooks} renders it under {@link #HOOK_SEEN} instead. */
    static final String HOOK = "helm.sh/hook";
    /** Where {@link #hooks} puts the value of a template's {@code helm.sh/hook} annotation. */
    static final String HOOK_SEEN = "catena.test/helm-hook";

    /**
     * The chart's hooks ({@code helm test} pods), as {@code helm template} would print them. helm-java
     * returns only the release manifest, without hooks; so this renders a copy of the chart (under
     * target/) in which hook annotations are renamed to {@link #HOOK_SEEN}: Helm then treats them as
     * plain objects, and each keeps its hook type as that annotation's value.
     */
    List<HasMetadata> hooks(Map<String, Object> sets) {
        try {
            Path copy = Files.createTempDirectory(Path.of(System.getProperty("user.dir"), "target"), "chart-hooks-")
                    .resolve("catena");
            try (var files = Files.walk(chart)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path to = copy.resolve(chart.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.writeString(to, Files.readString(f).replace(HOOK + ":", HOOK_SEEN + ":")
                                .replace(HOOK + "-delete-policy:", HOOK_SEEN + "-delete-policy:"));
                    }
                }
            }
            TemplateCommand command = new Helm(copy).template().withName(RELEASE).withNamespace(NAMESPACE)
                    .withKubeVersion(KUBE_VERSION);
            sets.forEach(command::set);
            return parse(command.call()).stream().filter(o -> o.getMetadata().getAnnotations() != null
                    && o.getMetadata().getAnnotations().containsKey(HOOK_SEEN)).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
            boolean empty = document.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"));
            if (!empty) {
                objects.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
            }
        }
        return objects;
    }
}
