package catena.gateway.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import catena.gateway.scaling.PoolScaler;
import catena.gateway.scaling.ScalingPolicy;
import catena.gateway.scaling.StageLoad;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.Test;

/**
 * The autoscaler's decisions applied to a StatefulSet in the fabric8 mock API server (CRUD mode),
 * on a clock the test drives: sustained queue time adds one replica (stages pods) at a time up to
 * the maximum, idle time brings the pool down to the minimum.
 */
@EnableKubernetesMockClient(crud = true)
class StatefulSetScalerTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    private static final String NAME = "r1-catena-worker";
    private static final int STAGES = 2;
    /** Stage 0 has sequences waiting for admission; KV usage (40/64) stays below its threshold (0.9). */
    private static final List<StageLoad> QUEUED = List.of(new StageLoad(16, 3, 40, 64), new StageLoad(16, 0, 40, 64));
    private static final List<StageLoad> IDLE = List.of(new StageLoad(0, 0, 0, 64), new StageLoad(0, 0, 0, 64));

    KubernetesMockServer server;
    KubernetesClient client;

    /** Requests the scaler made, in order ("METHOD path"); the test's own reads are left out. */
    private final List<String> calls = new ArrayList<>();
    private int taken;

    private void drain(boolean keep) throws InterruptedException {
        for (int n = server.getRequestCount(); taken < n; taken++) {
            RecordedRequest r = server.takeRequest(1, TimeUnit.SECONDS);
            if (keep) {
                calls.add(r.getMethod() + " " + r.getPath());
            }
        }
    }

    private int specReplicas() throws InterruptedException {
        drain(true);
        int n = client.apps().statefulSets().inNamespace(Pods.NAMESPACE).withName(NAME).get().getSpec().getReplicas();
        drain(false);
        return n;
    }

    @Test
    void shouldAddStagesPodsOnSustainedQueueTimeAndReturnToTheMinimumWhenIdle() throws InterruptedException {
        client.apps().statefulSets().inNamespace(Pods.NAMESPACE).resource(new StatefulSetBuilder().withNewMetadata()
                .withName(NAME).endMetadata().withNewSpec().withReplicas(STAGES).endSpec().build()).create();
        drain(false);
        ScalingPolicy policy = new ScalingPolicy(STAGES, 1, 3, Duration.ofSeconds(5), 0.9, Duration.ofSeconds(30),
                Duration.ofSeconds(300), Duration.ofSeconds(120), Duration.ofSeconds(600));
        PoolScaler scaler = new PoolScaler(policy, 0, new StatefulSetScale(client, Pods.NAMESPACE, NAME));
        List<String> log = new ArrayList<>();

        // Queue time reaches 5 s at T0+5; pressure must then hold 30 s: the first change is at T0+35.
        for (int t = 0; t <= 600; t += 5) {
            OptionalInt changed = scaler.observe(T0.plusSeconds(t), QUEUED);
            changed.ifPresent(n -> log.add("up to " + n));
            if (t == 30) {
                assertThat(specReplicas()).as("before pressure lasted 30 s").isEqualTo(STAGES);
            }
            if (t == 35) {
                assertThat(changed).isEqualTo(OptionalInt.of(2 * STAGES));
            }
        }
        // +1 replica at 35, the next after the 120 s cooldown (155), then the maximum of 3 holds.
        assertThat(log).containsExactly("up to 4", "up to 6");
        assertThat(specReplicas()).isEqualTo(3 * STAGES);

        log.clear();
        for (int t = 605; t <= 1800; t += 5) {
            scaler.observe(T0.plusSeconds(t), IDLE).ifPresent(n -> log.add("down to " + n));
        }
        assertThat(log).containsExactly("down to 2");
        assertThat(specReplicas()).isEqualTo(STAGES);

        drain(true);
        // One read per observation, one merge patch per change; nothing else of the API.
        assertThat(calls).containsOnly("GET /apis/apps/v1/namespaces/serving/statefulsets/" + NAME + "/scale",
                "PATCH /apis/apps/v1/namespaces/serving/statefulsets/" + NAME + "/scale");
        assertThat(calls).filteredOn(c -> c.startsWith("PATCH")).hasSize(3);
    }
}
