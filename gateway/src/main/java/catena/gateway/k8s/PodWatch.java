package catena.gateway.k8s;

import catena.gateway.discovery.PodView;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Watches the pods of one namespace that match a label selector (a fabric8 informer: one list,
 * then a watch) and hands every change to a listener as the whole current set of
 * {@link PodView}s. The API calls are {@code list} and {@code watch} on {@code pods}: what the
 * chart's Role grants for discovery.
 */
public final class PodWatch implements AutoCloseable {
    /** The container port whose number a pod's cluster address uses. */
    public static final String PEKKO_PORT_NAME = "pekko";

    private final Map<String, PodView> pods = new ConcurrentHashMap<>();
    private final Consumer<List<PodView>> listener;
    private final SharedIndexInformer<Pod> informer;

    /**
     * Starts watching and returns once the first list has arrived (the listener has then seen
     * every pod that existed). Fails when the API refuses the list, e.g. for missing RBAC.
     */
    public PodWatch(KubernetesClient client, String namespace, Map<String, String> labels,
                    Consumer<List<PodView>> listener) {
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("pod watch: namespace=" + namespace + ", expected a namespace");
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("pod watch: labels={}, expected a selector such as"
                    + " app.kubernetes.io/instance=catena (every pod of the namespace is not a cluster)");
        }
        this.listener = listener;
        this.informer = client.pods().inNamespace(namespace).withLabels(labels).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                put(pod);
            }

            @Override
            public void onUpdate(Pod before, Pod pod) {
                put(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                pods.remove(pod.getMetadata().getName());
                changed();
            }
        }, 0);
    }

    private void put(Pod pod) {
        PodView v = view(pod);
        pods.put(v.name(), v);
        changed();
    }

    private synchronized void changed() {
        listener.accept(snapshot());
    }

    /** The pods seen now, in no particular order. */
    public List<PodView> snapshot() {
        return List.copyOf(pods.values());
    }

    /** What discovery needs of {@code pod}. */
    public static PodView view(Pod pod) {
        var meta = pod.getMetadata();
        var status = pod.getStatus();
        String ip = status == null || status.getPodIP() == null ? "" : status.getPodIP();
        boolean running = status != null && "Running".equals(status.getPhase());
        Instant created = meta.getCreationTimestamp() == null ? Instant.EPOCH
                : Instant.parse(meta.getCreationTimestamp());
        int port = 0;
        if (pod.getSpec() != null) {
            for (Container c : pod.getSpec().getContainers()) {
                for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                    if (PEKKO_PORT_NAME.equals(p.getName()) && p.getContainerPort() != null) {
                        port = p.getContainerPort();
                    }
                }
            }
        }
        return new PodView(meta.getName(), ip, running, meta.getDeletionTimestamp() != null, created, port);
    }

    /**
     * Parses an equality label selector such as {@code app.kubernetes.io/name=catena,app.kubernetes.io/instance=r}.
     */
    public static Map<String, String> parseSelector(String selector) {
        Map<String, String> labels = new LinkedHashMap<>();
        if (selector == null || selector.isBlank()) {
            throw new IllegalArgumentException("--k8s-selector=" + selector + ", expected key=value[,key=value...]");
        }
        for (String part : selector.split(",")) {
            int eq = part.indexOf('=');
            String key = eq < 0 ? "" : part.substring(0, eq).trim();
            String value = eq < 0 ? "" : part.substring(eq + 1).trim();
            if (key.isEmpty() || value.startsWith("=") || key.endsWith("!")) {
                throw new IllegalArgumentException("--k8s-selector=" + selector + ": '" + part
                        + "' is not key=value (only equality selectors are supported)");
            }
            labels.put(key, value);
        }
        return labels;
    }

    @Override
    public void close() {
        informer.close();
    }
}
