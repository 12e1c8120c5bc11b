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

    /** A cluster member with {@code role} ("gateway" or "worker"). */
    public static Config cluster(String role, String host, int port, List<String> seeds) {
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
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.coordinated-shutdown.exit-jvm = off
                """.formatted(host, port, role, seedList)).withFallback(ConfigFactory.load());
    }
}
