package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.security.TestCertificates;
import catena.worker.config.NodeConfig;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Cluster remoting over mutual TLS with certificates made here: members of one CA join, others cannot. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterTlsTest {
    @TempDir
    Path dir;

    private static Path secret(Path dir, TestCertificates c) throws Exception {
        Files.createDirectories(dir);
        Files.copy(c.serverCert(), dir.resolve("tls.crt"));
        Files.copy(c.serverKey(), dir.resolve("tls.key"));
        Files.copy(c.caCert(), dir.resolve("ca.crt"));
        return dir;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static ActorSystem<Void> node(String role, int port, int seed, Path tls) {
        return ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, NodeConfig.withTls(
                NodeConfig.cluster(role, "127.0.0.1", port, List.of("127.0.0.1:" + seed)), tls));
    }

    private static long up(ActorSystem<Void> s) {
        return java.util.stream.StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).count();
    }

    @Test
    void shouldFormAClusterOverTlsAndKeepOutANodeOfAnotherCa() throws Exception {
        Path ours = secret(dir.resolve("ours"), TestCertificates.create(Files.createDirectories(dir.resolve("a")), "RSA"));
        Path theirs = secret(dir.resolve("theirs"), TestCertificates.create(Files.createDirectories(dir.resolve("b")),
                "RSA"));
        int seed = freePort();
        ActorSystem<Void> gateway = node("gateway", seed, seed, ours);
        ActorSystem<Void> worker = node("worker", 0, seed, ours);
        ActorSystem<Void> stranger = node("worker", 0, seed, theirs);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> up(gateway) == 2 && up(worker) == 2);
            assertThat(gateway.settings().config().getString("pekko.remote.artery.transport")).isEqualTo("tls-tcp");
            // the stranger keeps trying for this long and never becomes a member
            Thread.sleep(5000);
            assertThat(up(gateway)).isEqualTo(2);
            assertThat(up(stranger)).isZero();
        } finally {
            stranger.terminate();
            worker.terminate();
            gateway.terminate();
            gateway.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldNameTheMissingFile() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> NodeConfig.withTls(NodeConfig.cluster("worker", "127.0.0.1", 0, List.of()), empty))
                .hasMessageContaining("--cluster-tls=").hasMessageContaining("tls.crt");
    }
}
