package catena.gateway.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.discovery.SeedSelection;
import catena.worker.config.NodeConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Nodes started with no seed list find each other through the (mock) Kubernetes API and form one
 * Pekko cluster; a pod added later (a scaled StatefulSet) joins it.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesJoinTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    KubernetesMockServer server;
    KubernetesClient client;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<ActorSystem<Void>> systems = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        for (ActorSystem<Void> s : systems) {
            s.terminate();
            s.getWhenTerminated().toCompletableFuture().get();
        }
    }

    private ActorSystem<Void> node(String pod, int port) {
        ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME,
                NodeConfig.cluster("worker", "127.0.0.1", port, List.of()));
        systems.add(s);
        open.add(new KubernetesJoin(s, client, Pods.NAMESPACE, Pods.RELEASE, pod,
                new SeedSelection(Duration.ofMinutes(2)), Clock.systemUTC()));
        return s;
    }

    private static int upMembers(ActorSystem<?> s) {
        return (int) StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).count();
    }

    @Test
    void shouldFormOneClusterWhenNodesFindEachOtherInTheApiAndLetALaterPodJoinIt() throws IOException {
        int p0 = freePort();
        int p1 = freePort();
        Pods.create(client, Pods.pod("w-0", "127.0.0.1", p0, T0, Pods.RELEASE));
        Pods.create(client, Pods.pod("w-1", "127.0.0.1", p1, T0.plusSeconds(1), Pods.RELEASE));
        // The younger node starts first: it must wait for the older one, not found a cluster of its own.
        ActorSystem<Void> b = node("w-1", p1);
        ActorSystem<Void> a = node("w-0", p0);
        await().atMost(Duration.ofSeconds(60)).until(() -> upMembers(a) == 2 && upMembers(b) == 2);

        int p2 = freePort();
        Pods.create(client, Pods.pod("w-2", "127.0.0.1", p2, T0.plusSeconds(60), Pods.RELEASE));
        ActorSystem<Void> c = node("w-2", p2);
        await().atMost(Duration.ofSeconds(60)).until(() -> upMembers(a) == 3 && upMembers(c) == 3);
        KubernetesJoin third = (KubernetesJoin) open.getLast();
        assertThat(third.joinedWith()).containsExactly("127.0.0.1:" + p0, "127.0.0.1:" + p1, "127.0.0.1:" + p2);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
