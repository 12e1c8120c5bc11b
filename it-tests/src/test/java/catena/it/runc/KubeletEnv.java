package catena.it.runc;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's environment and command line as the kubelet makes them: {@code value},
 * {@code fieldRef} and {@code configMapKeyRef} sources, and {@code $(VAR)} references expanded in
 * env values (to variables defined earlier in the list), command and args ({@code $$} is a literal
 * {@code $}; a reference to an undefined variable stays as written).
 */
final class KubeletEnv {
    private final Map<String, String> fields;
    private final Map<String, ConfigMap> configMaps;

    /**
     * @param fields     values of the downward API's {@code fieldPath}s this pod has
     *                   (metadata.name, status.podIP, ...)
     * @param configMaps the rendered ConfigMaps by name
     */
    KubeletEnv(Map<String, String> fields, Map<String, ConfigMap> configMaps) {
        this.fields = Map.copyOf(fields);
        this.configMaps = Map.copyOf(configMaps);
    }

    /** The container's variables in order, each expanded against those before it. */
    Map<String, String> environment(Container container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar v : container.getEnv()) {
            env.put(v.getName(), v.getValueFrom() == null ? expand(nullToEmpty(v.getValue()), env)
                    : resolve(v.getName(), v.getValueFrom()));
        }
        return env;
    }

    /** command followed by args, expanded against {@code env}. */
    static List<String> commandLine(Container container, Map<String, String> env) {
        List<String> line = new ArrayList<>();
        container.getCommand().forEach(c -> line.add(expand(c, env)));
        container.getArgs().forEach(a -> line.add(expand(a, env)));
        return line;
    }

    private String resolve(String name, EnvVarSource source) {
        if (source.getFieldRef() != null) {
            String path = source.getFieldRef().getFieldPath();
            String value = fields.get(path);
            if (value == null) {
                throw new IllegalArgumentException("env " + name + ": fieldRef.fieldPath '" + path
                        + "' is not one this pod knows (known: " + fields.keySet() + ")");
            }
            return value;
        }
        if (source.getConfigMapKeyRef() != null) {
            var ref = source.getConfigMapKeyRef();
            ConfigMap map = configMaps.get(ref.getName());
            String value = map == null || map.getData() == null ? null : map.getData().get(ref.getKey());
            if (value == null) {
                throw new IllegalArgumentException("env " + name + ": configMapKeyRef '" + ref.getName() + "/"
                        + ref.getKey() + "' is not in the rendered ConfigMaps");
            }
            return value;
        }
        throw new IllegalArgumentException("env " + name + ": valueFrom " + source + " is not supported here");
    }

    /** Kubernetes' expansion: {@code $(NAME)} from {@code env}, {@code $$} to {@code $}, the rest verbatim. */
    static String expand(String text, Map<String, String> env) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '$') {
                out.append('$');
                i += 2;
            } else if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '(') {
                int close = text.indexOf(')', i + 2);
                String name = close < 0 ? null : text.substring(i + 2, close);
                if (name != null && env.containsKey(name)) {
                    out.append(env.get(name));
                    i = close + 1;
                } else {
                    out.append(c);
                    i++;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
