package catena.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.shard.generate.Generator;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.gguf.GgufFile;
import catena.shard.tokenizer.Tokenizer;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.PipelineStats;
import catena.v1.TokenPrompt;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A gateway JVM and 1-3 worker JVMs forming a Pekko cluster on loopback, driven by real gRPC
 * clients over TCP.
 */
class MultiJvmPipelineIT {
    private static final Duration LOADED = Duration.ofSeconds(90);

    static Path fixture(String relative) {
        String dir = System.getProperty("catena.fixtures");
        Path p = dir == null ? null : Path.of(dir).resolve(relative);
        if (p == null || !Files.isRegularFile(p)) {
            throw new IllegalStateException("fixture not found: " + p + " (system property catena.fixtures=" + dir + ")");
        }
        return p.toAbsolutePath();
    }

    static JsonNode story() throws Exception {
        Path index = fixture("refs/index.json");
        for (JsonNode c : new ObjectMapper().readTree(index.toFile())) {
            if (c.get("prompt_name").asText().equals("once") && c.get("weights").asText().equals("f32")
                    && c.get("kv_cache").asText().equals("f32")) {
                return c;
            }
        }
        throw new IllegalStateException("no 'once' f32 case in " + index);
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    static GenerateRequest ids(int maxTokens, int... ids) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(ids).forEach(p::addIds);
        return GenerateRequest.newBuilder().setTokens(p).setMaxTokens(maxTokens).build();
    }

    static List<Integer> tokens(Iterator<GenerateResponse> it) {
        List<Integer> out = new ArrayList<>();
        it.forEachRemaining(r -> out.addAll(r.getTokenIdsList()));
        return out;
    }

    static List<Integer> engineTokens(Path model, int[] prompt, int maxTokens) throws Exception {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        try (Model m = Model.load(model, LoadOptions.defaults())) {
            return Arrays.stream(new Generator(m, tokenizer).generate(prompt, SamplingParams.GREEDY, maxTokens, null)
                    .tokens()).boxed().toList();
        }
    }

    static void awaitServing(HealthGrpc.HealthBlockingStub health) {
        await().atMost(LOADED).pollInterval(Duration.ofMillis(250)).ignoreExceptions().until(() ->
                health.check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING);
    }

    @ParameterizedTest(name = "{0} worker JVM(s)")
    @ValueSource(ints = {1, 3})
    void shouldStreamTheEnginesGreedyTokensAndTheStory(int stages) throws Exception {
        JsonNode story = story();
        Path stories = fixture("stories/stories260K-f32.gguf");
        Path gemma = fixture("tiny/tiny-gemma3-q8_0.gguf");
        int[] prompt = {2, 17, 300, 45, 9, 600, 71, 5, 230};
        List<Integer> gemmaWant = engineTokens(gemma, prompt, 24);
        try (LocalCluster c = LocalCluster.gateway("stories-" + stages, stories, stages, true).workers(stages);
             LocalCluster g = LocalCluster.gateway("gemma3-" + stages, gemma, stages, false).workers(stages)) {
            awaitServing(HealthGrpc.newBlockingStub(c.channel()));
            List<Integer> got = tokens(InferenceGrpc.newBlockingStub(c.channel())
                    .generate(ids(32, ints(story.get("prompt")))));
            assertThat(got).isEqualTo(Arrays.stream(ints(story.get("generated"))).boxed().toList());
            awaitServing(HealthGrpc.newBlockingStub(g.channel()));
            assertThat(tokens(InferenceGrpc.newBlockingStub(g.channel()).generate(ids(24, prompt))))
                    .isEqualTo(gemmaWant);
            assertThat(InferenceGrpc.newBlockingStub(g.channel()).getPipelineStats(
                    GetPipelineStatsRequest.getDefaultInstance()).getStagesCount()).isEqualTo(stages);
        }
    }

    @Test
    void shouldServeATwoStageTwoJvmPipelineWithHealthReflectionBatchingValidationAndFreeing() throws Exception {
        JsonNode story = story();
        int[] prompt = ints(story.get("prompt"));
        List<Integer> want = Arrays.stream(ints(story.get("generated"))).boxed().toList();
        try (LocalCluster c = LocalCluster.gateway("two-stage", fixture("stories/stories260K-f32.gguf"), 2, true)) {
            var health = HealthGrpc.newBlockingStub(c.channel());
            c.awaitGrpc(health);
            // No worker yet: not serving, and Generate says UNAVAILABLE.
            assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .isEqualTo(ServingStatus.NOT_SERVING);
            var stub = InferenceGrpc.newBlockingStub(c.channel());
            assertThatThrownBy(() -> stub.generate(ids(4, prompt)).hasNext())
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            c.workers(1);
            Thread.sleep(3000);
            assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .as("one of two stages joined").isEqualTo(ServingStatus.NOT_SERVING);
            c.workers(1);
            awaitServing(health);

            assertThat(reflectedServices(c)).contains("catena.v1.Inference", "grpc.health.v1.Health");

            var bad = assertThatThrownBy(() -> stub.generate(ids(4, 2, 512)).hasNext());
            bad.isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription())
                        .isEqualTo("prompt token id 512 at index 1 is outside the vocabulary [0, 512)");
            });
            assertThatThrownBy(() -> stub.generate(GenerateRequest.newBuilder().setText("").build()).hasNext())
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getDescription()).isEqualTo("prompt text is empty"));

            // 16 concurrent streams all tell the story; the stages batch them.
            var async = InferenceGrpc.newStub(c.channel());
            List<CompletableFuture<List<Integer>>> results = new ArrayList<>();
            for (int s = 0; s < 16; s++) {
                CompletableFuture<List<Integer>> f = new CompletableFuture<>();
                List<Integer> got = new ArrayList<>();
                async.generate(ids(32, prompt), new StreamObserver<>() {
                    @Override
                    public void onNext(GenerateResponse r) {
                        got.addAll(r.getTokenIdsList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        f.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        f.complete(got);
                    }
                });
                results.add(f);
            }
            for (var f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(want);
            }
            PipelineStats stats = stub.getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
            assertThat(stats.getStagesList()).hasSize(2).allSatisfy(s -> {
                assertThat(s.getMultiSequenceBatches()).as("stage %d batches of > 1 sequence", s.getIndex())
                        .isPositive();
                assertThat(s.getSequences()).isZero();
            });

            // A cancelled call and an expired one free their KV caches on every stage.
            cancelAfterThreeTokens(c, prompt);
            assertThatThrownBy(() -> tokens(stub.withDeadlineAfter(20, TimeUnit.MILLISECONDS)
                    .generate(ids(120, prompt)))).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                PipelineStats st = stub.getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
                assertThat(st.getActiveSessions()).isZero();
                assertThat(st.getStagesList()).hasSize(2).allSatisfy(s -> {
                    assertThat(s.getSequences()).isZero();
                    assertThat(s.getCacheBytes()).isZero();
                });
            });
        }
    }

    private static void cancelAfterThreeTokens(LocalCluster c, int[] prompt) throws Exception {
        CountDownLatch three = new CountDownLatch(3);
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        InferenceGrpc.newStub(c.channel()).generate(ids(120, prompt),
                new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> s) {
                        call.set(s);
                        // Read one response at a time so the call is still running when we cancel.
                        s.disableAutoRequestWithInitial(3);
                    }

                    @Override
                    public void onNext(GenerateResponse r) {
                        three.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(null);
                    }
                });
        assertThat(three.await(30, TimeUnit.SECONDS)).isTrue();
        PipelineStats held = InferenceGrpc.newBlockingStub(c.channel())
                .getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
        assertThat(held.getStagesList()).allSatisfy(s -> assertThat(s.getCacheBytes()).isPositive());
        call.get().cancel("client gave up", null);
        assertThat(Status.fromThrowable(ended.get(10, TimeUnit.SECONDS)).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    private static List<String> reflectedServices(LocalCluster c) throws Exception {
        CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
        var requests = ServerReflectionGrpc.newStub(c.channel()).serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
                reply.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> names = reply.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
        requests.onCompleted();
        return names;
    }
}
