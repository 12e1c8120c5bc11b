package catena.gateway.app;

import catena.gateway.cluster.WorkerAutoscaler;
import catena.gateway.discovery.SeedSelection;
import catena.gateway.k8s.KubernetesJoin;
import catena.gateway.k8s.PodWatch;
import catena.gateway.k8s.StatefulSetScale;
import catena.gateway.scaling.PoolScaler;
import catena.gateway.scaling.ScalingPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine.Option;

/**
 * The options of {@code catena serve} that talk to the Kubernetes API: how a node finds the
 * cluster ({@code --discovery}), and the gateway's worker autoscaler ({@code --autoscale-*}). The
 * defaults of the pod's identity come from the environment the chart fills from the downward API.
 * The client reads the in-cluster service account (or a kubeconfig outside a cluster).
 */
final class KubernetesOptions {
    enum Discovery { seeds, kubernetes_api }

    @Option(names = "--discovery", paramLabel = "seeds|kubernetes-api", converter = DiscoveryConverter.class,
            description = "How a cluster node finds the others: seeds = the --seed-nodes list; kubernetes-api ="
                    + " the pods matching --k8s-selector in --k8s-namespace (oldest first; needs pods list/watch)"
                    + " (default: seeds)")
    Discovery discovery = Discovery.seeds;

    @Option(names = "--k8s-namespace", defaultValue = "${env:POD_NAMESPACE}",
            description = "Namespace of the cluster's pods (default: $POD_NAMESPACE)")
    String namespace;

    @Option(names = "--k8s-selector", paramLabel = "KEY=VALUE[,...]", defaultValue = "${env:CATENA_K8S_SELECTOR}",
            description = "Labels of the cluster's pods (default: $CATENA_K8S_SELECTOR)")
    String selector;

    @Option(names = "--k8s-pod-name", defaultValue = "${env:POD_NAME}",
            description = "This node's pod (default: $POD_NAME)")
    String podName;

    @Option(names = "--k8s-founder-wait", paramLabel = "DURATION", defaultValue = "2m",
            description = "How long a node waits for an older pod that is not running yet before it may found"
                    + " the cluster itself (default: ${DEFAULT-VALUE})")
    String founderWait;

    @Option(names = "--autoscale-statefulset", paramLabel = "NAME", description = "Gateway role: scale this worker"
            + " StatefulSet (its namespace is --k8s-namespace) by whole replicas on queue time and KV usage;"
            + " needs statefulsets/scale get and patch (default: off)")
    String statefulSet;

    @Option(names = "--autoscale-min-replicas", defaultValue = "1", description = "Replicas kept when idle"
            + " (default: ${DEFAULT-VALUE})")
    int minReplicas;

    @Option(names = "--autoscale-max-replicas", defaultValue = "4", description = "Replicas never exceeded"
            + " (default: ${DEFAULT-VALUE})")
    int maxReplicas;

    @Option(names = "--autoscale-spares", defaultValue = "0", description = "Hot spare workers kept on top"
            + " (default: ${DEFAULT-VALUE})")
    int spares;

    @Option(names = "--autoscale-queue-time", paramLabel = "DURATION", defaultValue = "5s", description = "Queue"
            + " time (how long sequences have waited for KV admission without a break) that counts as pressure"
            + " (default: ${DEFAULT-VALUE})")
    String queueTime;

    @Option(names = "--autoscale-kv-usage", defaultValue = "0.9", description = "KV usage fraction of any stage"
            + " that counts as pressure (default: ${DEFAULT-VALUE})")
    double kvUsage;

    @Option(names = "--autoscale-sustain-up", paramLabel = "DURATION", defaultValue = "60s",
            description = "Pressure lasting this long adds a replica (default: ${DEFAULT-VALUE})")
    String sustainUp;

    @Option(names = "--autoscale-sustain-idle", paramLabel = "DURATION", defaultValue = "15m",
            description = "Idleness lasting this long returns to the minimum (default: ${DEFAULT-VALUE})")
    String sustainIdle;

    @Option(names = "--autoscale-cooldown-up", paramLabel = "DURATION", defaultValue = "3m",
            description = "Wait after a change before adding again (default: ${DEFAULT-VALUE})")
    String cooldownUp;

    @Option(names = "--autoscale-cooldown-down", paramLabel = "DURATION", defaultValue = "10m",
            description = "Wait after a change before shrinking (default: ${DEFAULT-VALUE})")
    String cooldownDown;

    @Option(names = "--autoscale-interval", paramLabel = "DURATION", defaultValue = "5s",
            description = "How often the stages' load is read (default: ${DEFAULT-VALUE})")
    String interval;

    private KubernetesClient client;

    /** Accepts the spelling of the chart and the help, {@code kubernetes-api}. */
    static final class DiscoveryConverter implements picocli.CommandLine.ITypeConverter<Discovery> {
        @Override
        public Discovery convert(String value) {
            return switch (value) {
                case "seeds" -> Discovery.seeds;
                case "kubernetes-api" -> Discovery.kubernetes_api;
                default -> throw new IllegalArgumentException("--discovery=" + value
                        + ", expected seeds or kubernetes-api");
            };
        }
    }

    boolean fromApi() {
        return discovery == Discovery.kubernetes_api;
    }

    /** Checks the options against the role and the seed list; throws naming the bad option. */
    void validate(String role, boolean hasSeeds) {
        if (fromApi()) {
            if (!"gateway".equals(role) && !"worker".equals(role)) {
                throw new IllegalArgumentException("--discovery kubernetes-api is for --role gateway and worker, not"
                        + " --role " + role);
            }
            if (hasSeeds) {
                throw new IllegalArgumentException("--seed-nodes and --discovery kubernetes-api exclude each other");
            }
            requireNamespace("--discovery kubernetes-api");
            PodWatch.parseSelector(selector);
            if (podName == null || podName.isBlank()) {
                throw new IllegalArgumentException("--k8s-pod-name=" + podName + ", expected this pod's name (or"
                        + " POD_NAME in the environment)");
            }
            Durations.parse("--k8s-founder-wait", founderWait);
        }
        if (statefulSet != null && !"gateway".equals(role)) {
            throw new IllegalArgumentException("--autoscale-statefulset=" + statefulSet + " is for --role gateway"
                    + " (the plan owner runs the autoscaler), not --role " + role);
        }
        if (statefulSet != null) {
            requireNamespace("--autoscale-statefulset");
        }
    }

    private void requireNamespace(String what) {
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("--k8s-namespace=" + namespace + ", expected the pods' namespace for "
                    + what + " (or POD_NAMESPACE in the environment)");
        }
    }

    /** The autoscaler of a gateway, or null when --autoscale-statefulset is not given. */
    WorkerAutoscaler.Settings autoscaling(int stages) {
        if (statefulSet == null) {
            return null;
        }
        ScalingPolicy policy = new ScalingPolicy(stages, minReplicas, maxReplicas,
                Durations.parse("--autoscale-queue-time", queueTime), kvUsage,
                Durations.parse("--autoscale-sustain-up", sustainUp),
                Durations.parse("--autoscale-sustain-idle", sustainIdle),
                Durations.parse("--autoscale-cooldown-up", cooldownUp),
                Durations.parse("--autoscale-cooldown-down", cooldownDown));
        ExecutorService blocking = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "catena-autoscaler");
            t.setDaemon(true);
            return t;
        });
        PoolScaler scaler = new PoolScaler(policy, spares, new StatefulSetScale(client(), namespace, statefulSet));
        System.out.println("catena: autoscaling StatefulSet " + namespace + "/" + statefulSet + " between "
                + minReplicas + " and " + maxReplicas + " replica(s) of " + stages + " stage(s)");
        return new WorkerAutoscaler.Settings(scaler, Durations.parse("--autoscale-interval", interval), blocking,
                Clock.systemUTC());
    }

    /** With --discovery kubernetes-api, starts finding the cluster for {@code system} (started without seeds). */
    void join(ActorSystem<?> system) {
        if (!fromApi()) {
            return;
        }
        KubernetesJoin join = new KubernetesJoin(system, client(), namespace, PodWatch.parseSelector(selector),
                podName, new SeedSelection(Durations.parse("--k8s-founder-wait", founderWait)), Clock.systemUTC());
        system.getWhenTerminated().thenRun(join::close);
        System.out.println("catena: finding the cluster through the Kubernetes API: pods " + selector + " in "
                + namespace);
    }

    /** Closes the client once {@code system} has stopped. */
    void closeWith(ActorSystem<?> system) {
        if (client != null) {
            KubernetesClient c = client;
            system.getWhenTerminated().thenRun(c::close);
        }
    }

    private synchronized KubernetesClient client() {
        if (client == null) {
            client = new KubernetesClientBuilder().build();
        }
        return client;
    }
}
