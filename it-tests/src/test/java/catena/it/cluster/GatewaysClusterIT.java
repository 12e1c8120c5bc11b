package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.v1.GenerateRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import catena.v1.TokenPrompt;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Any number of gateways: two gateway JVMs and two workers (1 stage x 2 replicas). Both gateways
 * serve 16 streams each at once, all correct; the gateway hosting the plan owner is killed with
 * SIGKILL while its streams run, and every stage frees its sequences; restarted on the same
 * address, it serves again within 10 s, the workers untouched.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewaysClusterIT {
    private static final String MODEL = "stories/stories260K-q8_0.gguf";
    private static Cluster cluster;
    private static Cluster.Gateway second;
    private static Path model;
    private static int[] prompt;

    @BeforeAll
    static void start() throws Exception {
        model = Fixtures.file(MODEL);
        prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        cluster = Cluster.gateway(model, 1, "2");
        cluster.addWorker();
        cluster.addWorker();
        cluster.awaitReplicas(2, Duration.ofSeconds(120));
        second = cluster.addGateway();
        await().atMost(Duration.ofSeconds(60)).until(() -> second.health()
                == io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static GenerateRequest request(int[] p, int maxTokens) {
        TokenPrompt.Builder b = TokenPrompt.newBuilder();
        Arrays.stream(p).forEach(b::addIds);
        return GenerateRequest.newBuilder().setTokens(b).setMaxTokens(maxTokens).setTemperature(0).build();
    }

    @Test
    @Order(1)
    void shouldServeSixteenStreamsFromEachGatewayAtOnceAllCorrect() throws Exception {
        int[] want = Streams.reference(model, prompt, 48);
        List<PausedStream> streams = new ArrayList<>();
        for (Cluster.Gateway g : List.of(cluster.gatewayAt(0), second)) {
            var stub = InferenceGrpc.newStub(g.channel);
            for (int i = 0; i < 16; i++) {
                streams.add(PausedStream.start(stub, request(prompt, 48), Integer.MAX_VALUE));
            }
        }
        for (PausedStream s : streams) {
            assertThat(s.done().get(120, TimeUnit.SECONDS).isOk()).isTrue();
            assertThat(s.tokens()).containsExactly(want);
        }
    }

    @Test
    @Order(2)
    void shouldFreeADeadGatewaysSequencesAndServeAgainWhenItRestartsOnTheSameAddress() throws Exception {
        ModelInfo before = second.stub().getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance());
        Cluster.Gateway first = cluster.gatewayAt(0);
        var stub = InferenceGrpc.newStub(first.channel);
        List<PausedStream> streams = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            streams.add(PausedStream.start(stub, request(prompt, 100), 4));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> streams.stream().allMatch(s -> s.received() >= 4));
        assertThat(second.stub().getPipelineStats(catena.v1.GetPipelineStatsRequest.getDefaultInstance())
                .getStagesList().stream().mapToInt(s -> s.getSequences()).sum()).isEqualTo(8);
        first.process.kill();
        long killed = System.nanoTime();
        // Reading again lets the clients see their calls fail (gRPC delivers the status after buffered messages).
        streams.forEach(PausedStream::resume);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(second.stub().getPipelineStats(catena.v1.GetPipelineStatsRequest.getDefaultInstance())
                        .getStagesList()).hasSize(2).allSatisfy(s -> assertThat(s.getSequences()).isZero()));
        System.out.printf("GATEWAY kill -9 to its sequences freed on every stage: %.2f s%n",
                (System.nanoTime() - killed) / 1e9);
        for (PausedStream s : streams) {
            assertThat(s.done().get(30, TimeUnit.SECONDS).getCode()).isNotEqualTo(Status.Code.OK);
        }

        long started = System.nanoTime();
        first.start();
        int[] want = Streams.reference(model, prompt, 16);
        String last = "no attempt";
        boolean served = false;
        while (!served && System.nanoTime() - started < 10_000_000_000L) {
            // The test's channel backs off exponentially while the gateway is dead: retry it at once.
            first.channel.resetConnectBackoff();
            try {
                int[] got = Streams.tokens(first.stub().withDeadlineAfter(3, TimeUnit.SECONDS)
                        .generate(request(prompt, 16)));
                served = Arrays.equals(got, want);
                last = "tokens " + Arrays.toString(got);
            } catch (RuntimeException e) {
                last = e.toString();
                Thread.sleep(100);
            }
        }
        assertThat(served).as("first request served within 10 s of the restart; last attempt: %s\n%s", last,
                first.process.output()).isTrue();
        System.out.printf("GATEWAY restart on the same address to its first served request: %.2f s%n",
                (System.nanoTime() - started) / 1e9);
        ModelInfo after = second.stub().getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance());
        assertThat(after.getReplicasList()).isEqualTo(before.getReplicasList());
        for (NodeProcess w : cluster.workers()) {
            assertThat(w.output().split("stage loading layers", -1)).as("loads by %s", w.output().lines()
                    .findFirst().orElse("")).hasSize(2);
        }
    }
}
