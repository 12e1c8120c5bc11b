package catena.worker.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Pekko settings of a Catena node. Embedded mode runs without remoting; cluster nodes use Artery
 * TCP on {@code host:port} (0 = any free port; seed nodes need a fixed one) with the split-brain
 * resolver, the given role, and the given seed nodes ({@code host:port}).
 */
public final class NodeConfig {
    /** Name of every Catena actor system; cluster members must share it. */
    public static final String SYSTEM_NAME = "catena";

    private NodeConfig() {
    }

    /** One JVM holding gateway and stages: no remoting. */
    public static Config embedded() {
        return ConfigFactory.parseString("""
                pekko.loglevel = INFO
                pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                # JVMs starting together on a busy machine can take longer than the default 5 s.
                pekko.logger-startup-timeout = 30s
                pekko.actor.provider = local
                """).withFallback(ConfigFactory.load());
    }

    /**
     * A cluster member with {@code role} ("gateway" or "worker"). Failure detection is tuned for a
     * fast failover: a member whose heartbeats stop for about {@code detection} is unreachable (the
     * plan owner plans it out then, sessions replay), and the split-brain resolver downs it after
     * {@code stableAfter} without further change, so its restarted incarnation can rejoin.
     */
    public static Config cluster(String role, String host, int port, List<String> seeds) {
        return cluster(role, host, port, seeds, Timings.LOOPBACK);
    }

    /**
     * How fast a lost member is noticed: heartbeats may pause {@code detection} before a member is
     * unreachable (then it is planned out and its streams replay), and the split-brain resolver
     * downs it after {@code stableAfter} more (then its restarted incarnation can rejoin and the
     * stages free a dead gateway's sequences).
     */
    public record Timings(java.time.Duration detection, java.time.Duration stableAfter) {
        /** For loopback and a LAN: about 1-2 s to unreachable, 3 s more to down. */
        public static final Timings LOOPBACK = new Timings(java.time.Duration.ofMillis(1000),
                java.time.Duration.ofSeconds(3));
    }

    /** As {@link #cluster(String, String, int, List)} with explicit failure-detection timings. */
    public static Config cluster(String role, String host, int port, List<String> seeds, Timings timings) {
        java.time.Duration detection = timings.detection();
        java.time.Duration stableAfter = timings.stableAfter();
        String seedList = seeds.stream()
                .map(s -> "\"pekko://" + SYSTEM_NAME + "@" + s + "\"")
                .collect(Collectors.joining(", "));
        return ConfigFactory.parseString("""
                pekko.loglevel = INFO
                pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                # JVMs starting together on a busy machine can take longer than the default 5 s.
                pekko.logger-startup-timeout = 30s
                pekko.actor.provider = cluster
                pekko.remote.artery.transport = tcp
                pekko.remote.artery.canonical.hostname = "%s"
                pekko.remote.artery.canonical.port = %d
                pekko.cluster.roles = ["%s"]
                pekko.cluster.seed-nodes = [%s]
                pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
                # keep-majority: a lone killed worker is downed; on a 2-node tie the lowest address (give gateways the lowest ports) stays.
                pekko.cluster.split-brain-resolver.active-strategy = keep-majority
                pekko.cluster.split-brain-resolver.stable-after = %dms
                pekko.cluster.failure-detector.heartbeat-interval = 300ms
                pekko.cluster.failure-detector.acceptable-heartbeat-pause = %dms
                pekko.cluster.failure-detector.threshold = 8.0
                # The failure detector is read only at this tick (1 s by default): a lost worker's streams
                # would wait up to a whole tick more before failover.
                pekko.cluster.unreachable-nodes-reaper-interval = 250ms
                # Spreads reachability to gateways that do not watch the lost node themselves.
                pekko.cluster.gossip-interval = 500ms
                pekko.remote.watch-failure-detector.heartbeat-interval = 300ms
                pekko.remote.watch-failure-detector.acceptable-heartbeat-pause = %dms
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.cluster.singleton.hand-over-retry-interval = 500ms
                # A worker's drain (StageActor.DRAIN_TIMEOUT, 20 s) runs in this phase.
                pekko.coordinated-shutdown.phases.before-service-unbind.timeout = 30s
                """.formatted(host, port, role, seedList, stableAfter.toMillis(), detection.toMillis(),
                detection.toMillis())).withFallback(ConfigFactory.load());
    }

    /**
     * {@code cluster} with Artery over TLS: every node presents {@code dir/tls.crt} (key
     * {@code dir/tls.key}) and accepts only peers whose certificates {@code dir/ca.crt} signed,
     * the layout of a Kubernetes TLS Secret with its CA (cert-manager writes it so). Pekko's
     * rotating-keys engine re-reads the files, so certificates rotate without a restart. Keys must
     * be RSA (PKCS#1 or PKCS#8 PEM): that engine reads no other kind.
     */
    public static Config withTls(Config cluster, java.nio.file.Path dir) {
        for (String f : new String[] {"tls.crt", "tls.key", "ca.crt"}) {
            if (!java.nio.file.Files.isReadable(dir.resolve(f))) {
                throw new IllegalArgumentException("--cluster-tls=" + dir + ": no readable " + f + " in it (expected"
                        + " tls.crt, tls.key and ca.crt)");
            }
        }
        String d = dir.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"");
        return ConfigFactory.parseString("""
                pekko.remote.artery.transport = tls-tcp
                pekko.remote.artery.ssl.ssl-engine-provider = "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider"
                pekko.remote.artery.ssl.rotating-keys-engine.key-file = "%1$s/tls.key"
                pekko.remote.artery.ssl.rotating-keys-engine.cert-file = "%1$s/tls.crt"
                pekko.remote.artery.ssl.rotating-keys-engine.ca-cert-file = "%1$s/ca.crt"
                """.formatted(d)).withFallback(cluster);
    }
}
