package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.shard.generate.Generator;
import catena.shard.gguf.GgufFile;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.Tokenizer;
import catena.v1.GenerateRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import catena.v1.ReplicaInfo;
import catena.v1.StageStats;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scale out and survive: a gateway and 5 workers, 2 stages x 2 replicas (4 workers) plus a hot
 * spare. 16 streams (half greedy, half seeded sampling) land on both replicas; while their clients
 * have paused reading, one worker of a replica is killed with SIGKILL. Every stream completes
 * with exactly the tokens of an undisturbed run, the spare takes the dead worker's slot, and the
 * other replica is not re-planned.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class FailoverClusterIT {
    private static final String MODEL = "stories/stories260K-q8_0.gguf";
    private static final int MAX_TOKENS = 100;
    private static Cluster cluster;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        model = Fixtures.file(MODEL);
        cluster = Cluster.gateway(model, 2, "2");
        for (int i = 0; i < 5; i++) {
            cluster.addWorker();
        }
        cluster.awaitReplicas(2, Duration.ofSeconds(120));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static GenerateRequest request(int[] prompt, int i) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(prompt).forEach(p::addIds);
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setTokens(p).setMaxTokens(MAX_TOKENS);
        return i % 2 == 0 ? b.setTemperature(0).build() : b.setTemperature(0.8f).setTopP(0.9f).setSeed(i).build();
    }

    private static SamplingParams params(int i) {
        return i % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.8f, 0, 0.9f, 0f, 1f, 64, i);
    }

    private static List<int[]> references(int[] prompt, int n) throws Exception {
        List<int[]> want = new ArrayList<>();
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        try (Model m = Model.load(model, LoadOptions.defaults())) {
            Generator g = new Generator(m, tokenizer);
            for (int i = 0; i < n; i++) {
                want.add(g.generate(prompt, params(i), MAX_TOKENS, null).tokens());
            }
        }
        return want;
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void shouldLoseNoStreamWhenAWorkerIsDrainedBySigterm() throws Exception {
        // After the kill test: 4 workers in 2 replicas, no spare. SIGTERM one: it tells the plan
        // owner it is leaving, its replica is dissolved, its streams replay on the other replica.
        int[] prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        int n = 8;
        List<int[]> want = references(prompt, n);
        cluster.awaitReplicas(2, Duration.ofSeconds(60));
        ModelInfo before = cluster.info();
        var stub = InferenceGrpc.newStub(cluster.channel());
        List<PausedStream> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            streams.add(PausedStream.start(stub, request(prompt, i), 10));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> streams.stream().allMatch(s -> s.received() >= 10));
        NodeProcess leaving = cluster.workerAt(before.getReplicas(0).getStages(0).getAddress());
        leaving.terminate();
        streams.forEach(PausedStream::resume);
        for (int i = 0; i < n; i++) {
            Status status = streams.get(i).done().get(120, TimeUnit.SECONDS);
            assertThat(status.isOk()).as("stream %d ended with %s", i, status).isTrue();
            assertThat(streams.get(i).tokens()).as("tokens of stream %d", i).containsExactly(want.get(i));
        }
        assertThat(leaving.awaitExit(Duration.ofSeconds(60))).as("the drained worker exits by itself").isTrue();
        assertThat(leaving.output()).contains("stage draining").contains("stage drained");
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void shouldCompleteEveryStreamWithUndisturbedTokensWhenAWorkerOfAReplicaIsKilled() throws Exception {
        int[] prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        int n = 16;
        List<int[]> want = references(prompt, n);
        ModelInfo before = cluster.info();
        assertThat(before.getReplicasList()).hasSize(2).allMatch(ReplicaInfo::getReady);
        assertThat(before.getSpares()).isEqualTo(1);

        var stub = InferenceGrpc.newStub(cluster.channel());
        List<PausedStream> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            streams.add(PausedStream.start(stub, request(prompt, i), 12));
        }
        // Mid-way: every client has read a few tokens and paused; both replicas hold sequences.
        await().atMost(Duration.ofSeconds(60)).until(() -> streams.stream().allMatch(s -> s.received() >= 12));
        List<StageStats> busy = cluster.stats().getStagesList();
        for (int r = 0; r < 2; r++) {
            int replica = r;
            assertThat(busy.stream().filter(s -> s.getReplica() == replica && s.getIndex() == 0)
                    .mapToInt(StageStats::getSequences).sum()).as("sequences on replica %d", replica).isPositive();
        }

        ReplicaInfo victimReplica = before.getReplicas(1);
        ReplicaInfo otherReplica = before.getReplicas(0);
        NodeProcess victim = cluster.workerAt(victimReplica.getStages(1).getAddress());
        long killed = System.nanoTime();
        victim.kill();
        streams.forEach(PausedStream::resume);

        for (int i = 0; i < n; i++) {
            Status status = streams.get(i).done().get(120, TimeUnit.SECONDS);
            assertThat(status.isOk()).as("stream %d ended with %s\n%s", i, status, "").isTrue();
            assertThat(streams.get(i).tokens()).as("tokens of stream %d (%s)", i, i % 2 == 0 ? "greedy" : "seeded")
                    .containsExactly(want.get(i));
        }
        long slowest = 0;
        for (PausedStream s : streams) {
            slowest = Math.max(slowest, s.longestGapAfter(killed));
        }
        // The clients resume reading at the kill: the longest pause any stream saw after it is the failover time.
        System.out.printf("FAILOVER kill -9 to the next token: longest pause of %d streams %.2f s%n", n,
                slowest / 1e9);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            ModelInfo after = cluster.info();
            assertThat(after.getReplicasList()).hasSize(2).allMatch(ReplicaInfo::getReady);
            assertThat(after.getSpares()).isZero();
            ReplicaInfo repaired = after.getReplicas(1);
            assertThat(repaired.getEpoch()).isNotEqualTo(victimReplica.getEpoch());
            assertThat(repaired.getStages(0).getAddress()).isEqualTo(victimReplica.getStages(0).getAddress());
            assertThat(repaired.getStages(1).getAddress()).isNotEqualTo(victimReplica.getStages(1).getAddress());
            assertThat(after.getReplicas(0)).isEqualTo(otherReplica);
        });
        // The untouched replica dropped nothing: no message of another epoch reached it.
        assertThat(cluster.stats().getStagesList().stream().filter(s -> s.getReplica() == 0))
                .allSatisfy(s -> assertThat(s.getStaleDropped()).isZero());
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(cluster.stats().getStagesList())
                .allSatisfy(s -> assertThat(s.getSequences()).isZero()));
    }
}
