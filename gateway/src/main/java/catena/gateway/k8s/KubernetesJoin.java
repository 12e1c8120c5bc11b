package catena.gateway.k8s;

import catena.gateway.discovery.PodView;
import catena.gateway.discovery.SeedSelection;
import catena.worker.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins this node's actor system to the cluster that the release's pods form, found through the
 * Kubernetes API ({@code --discovery kubernetes-api}): a {@link PodWatch} on the release's labels
 * feeds {@link SeedSelection}, and its first {@link SeedSelection.Join} becomes
 * {@code Cluster.joinSeedNodes} (Pekko joins once; after that membership is Pekko's business). The
 * decision is also re-taken every second, since a wait for an older pod can end by time alone.
 * The system must have been started without seed nodes.
 */
public final class KubernetesJoin implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesJoin.class);
    static final Duration RECHECK = Duration.ofSeconds(1);

    private final ActorSystem<?> system;
    private final String selfPod;
    private final SeedSelection selection;
    private final Clock clock;
    private final PodWatch watch;
    private final Cancellable recheck;
    private List<String> joined;
    private String lastWait;

    /**
     * Watches the pods matching {@code labels} in {@code namespace} and joins when the selection
     * says so; {@code selfPod} is this node's pod name (the downward API's metadata.name).
     */
    public KubernetesJoin(ActorSystem<?> system, KubernetesClient client, String namespace,
                          Map<String, String> labels, String selfPod, SeedSelection selection, Clock clock) {
        if (selfPod == null || selfPod.isBlank()) {
            throw new IllegalArgumentException("--k8s-pod-name=" + selfPod + ", expected this pod's name (set"
                    + " POD_NAME from the downward API's metadata.name)");
        }
        this.system = system;
        this.selfPod = selfPod;
        this.selection = selection;
        this.clock = clock;
        this.watch = new PodWatch(client, namespace, labels, this::consider);
        this.recheck = system.scheduler().scheduleWithFixedDelay(RECHECK, RECHECK,
                () -> consider(watch.snapshot()), system.executionContext());
        consider(watch.snapshot());
        if (joinedWith() != null) {
            recheck.cancel();
        }
    }

    private synchronized void consider(List<PodView> pods) {
        if (joined != null) {
            return;
        }
        switch (selection.decide(selfPod, pods, clock.instant())) {
            case SeedSelection.Join j -> {
                joined = j.seeds();
                List<Address> seeds = j.seeds().stream().map(KubernetesJoin::address).toList();
                LOG.info("pod [{}] joins the cluster through seeds {} (found in the Kubernetes API)", selfPod, seeds);
                Cluster.get(system).manager().tell(new JoinSeedNodes(seeds));
                if (recheck != null) {
                    recheck.cancel();
                }
            }
            case SeedSelection.Wait w -> {
                if (!w.reason().equals(lastWait)) {
                    lastWait = w.reason();
                    LOG.info("pod [{}] waits to join: {}", selfPod, w.reason());
                }
            }
        }
    }

    private static Address address(String seed) {
        int colon = seed.lastIndexOf(':');
        return new Address("pekko", NodeConfig.SYSTEM_NAME, seed.substring(0, colon),
                Integer.parseInt(seed.substring(colon + 1)));
    }

    /** The seeds this node joined with, or null while it waits. */
    public synchronized List<String> joinedWith() {
        return joined;
    }

    /** The pods the watch sees now. */
    public List<PodView> pods() {
        return watch.snapshot();
    }

    @Override
    public void close() {
        recheck.cancel();
        watch.close();
    }
}
