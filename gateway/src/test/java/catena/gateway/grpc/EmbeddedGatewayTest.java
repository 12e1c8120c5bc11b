package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.ToyTokenizer;
import catena.gateway.app.CatenaNode;
import catena.gateway.app.CatenaNode.GatewaySettings;
import catena.gateway.app.StageSettings;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.v1.FinishReason;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.PipelineStats;
import catena.v1.StageStats;
import catena.v1.TokenPrompt;
import catena.worker.engine.ModelFacts;
import catena.worker.engine.StageEngineFactory;
import catena.worker.engine.ToyEngine;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The embedded pipeline (gateway + N stages in one JVM) through real gRPC stubs, with the toy engine. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EmbeddedGatewayTest {
    private static final int LAYERS = 4;
    private static final int VOCAB = 97;
    private static final int CONTEXT = 512;
    /** No warm-up: the toy engine checks that activations carry their tokens, which warm-up rows do not. */
    private static final StageSettings TOY_STAGES = StageSettings.defaults().withWarmupRounds(0);

    private CatenaNode node;
    private ManagedChannel channel;

    @AfterEach
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
    }

    private InferenceGrpc.InferenceBlockingStub start(int stages, StageEngineFactory engines, int maxSessions)
            throws Exception {
        String name = InProcessServerBuilder.generateName();
        ServedModel model = ServedModel.of(Path.of("toy.gguf"), new ModelFacts("toy", LAYERS, ToyEngine.DIM, VOCAB,
                CONTEXT), new ToyTokenizer(VOCAB), null);
        long[] layerBytes = new long[LAYERS];
        Arrays.fill(layerBytes, 100);
        node = CatenaNode.embedded(PlanOwner.Settings.of(Path.of("toy.gguf"), false, stages, layerBytes), 1,
                model, engines, TOY_STAGES, InProcessServerBuilder.forName(name),
                new GatewaySettings(maxSessions, Duration.ofSeconds(10)));
        channel = InProcessChannelBuilder.forName(name).build();
        return InferenceGrpc.newBlockingStub(channel);
    }

    private InferenceGrpc.InferenceBlockingStub startLoaded(int stages, long delayMillis, int maxSessions)
            throws Exception {
        var stub = start(stages, ToyEngine.factory(LAYERS, VOCAB, CONTEXT, delayMillis), maxSessions);
        await().atMost(Duration.ofSeconds(10)).until(() -> node.topology().serving());
        return stub;
    }

    /** The toy model's greedy continuation, ending at EOS (id 1) or after max tokens. */
    private static List<Integer> expected(int[] prompt, int maxTokens) {
        List<Integer> out = new ArrayList<>();
        int token = prompt[prompt.length - 1];
        for (int i = 0; i < maxTokens; i++) {
            token = ToyEngine.next(token, prompt.length - 1 + i, LAYERS, VOCAB);
            out.add(token);
            if (token == 1) {
                break;
            }
        }
        return out;
    }

    /**
     * A prompt whose toy continuation runs {@code n} tokens without EOS (for calls that must be
     * stopped by the client, its deadline or admission). The toy model emits EOS (id 1) about once
     * in 97 tokens, so only short runs exist: the search is bounded and fails loudly.
     */
    private static int[] endless(int n) {
        for (int j = 2; j < VOCAB; j++) {
            for (int k = 2; k < VOCAB; k++) {
                int[] prompt = {2, j, k};
                if (!expected(prompt, n).contains(1)) {
                    return prompt;
                }
            }
        }
        throw new AssertionError("no 3-token toy prompt runs " + n + " tokens without EOS");
    }

    private static GenerateRequest ids(int maxTokens, int... ids) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        for (int id : ids) {
            p.addIds(id);
        }
        return GenerateRequest.newBuilder().setTokens(p).setMaxTokens(maxTokens).build();
    }

    private record Result(List<Integer> tokens, String text, GenerateResponse last) {
    }

    private static Result collect(Iterator<GenerateResponse> it) {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        GenerateResponse last = null;
        while (it.hasNext()) {
            last = it.next();
            tokens.addAll(last.getTokenIdsList());
            text.append(last.getText());
        }
        return new Result(tokens, text.toString(), last);
    }

    private PipelineStats stats(InferenceGrpc.InferenceBlockingStub stub) {
        return stub.getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void shouldStreamTheModelsGreedyTokensThroughEveryStageCount(int stages) throws Exception {
        var stub = startLoaded(stages, 0, 8);
        int[] prompt = {5, 40, 41, 42};
        Result r = collect(stub.generate(ids(20, prompt)));
        List<Integer> want = expected(prompt, 20);
        assertThat(r.tokens()).isEqualTo(want);
        StringBuilder text = new StringBuilder();
        want.forEach(t -> text.append(ToyTokenizer.text(t)));
        assertThat(r.text()).isEqualTo(text.toString());
        assertThat(r.last().getFinishReason()).isEqualTo(want.getLast() == 1 ? FinishReason.FINISH_REASON_EOS
                : FinishReason.FINISH_REASON_LENGTH);
        assertThat(r.last().getUsage().getPromptTokens()).isEqualTo(4);
        assertThat(r.last().getUsage().getCompletionTokens()).isEqualTo(want.size());
        assertThat(stats(stub).getStagesList()).hasSize(stages);
    }

    @Test
    void shouldTokenizeATextPromptWithBos() throws Exception {
        var stub = startLoaded(2, 0, 8);
        Result r = collect(stub.generate(GenerateRequest.newBuilder().setText("hi").setMaxTokens(5).build()));
        assertThat(r.tokens()).isEqualTo(expected(new ToyTokenizer(VOCAB).encode("hi", true, false), 5));
    }

    @Test
    void shouldStopBeforeAStopStringAndNotReturnIt() throws Exception {
        var stub = startLoaded(2, 0, 8);
        int[] prompt = {5, 40, 41, 42};
        List<Integer> want = expected(prompt, 30);
        StringBuilder full = new StringBuilder();
        want.forEach(t -> full.append(ToyTokenizer.text(t)));
        String stop = full.substring(6, 8);
        int cut = full.indexOf(stop);
        Result r = collect(stub.generate(ids(30, prompt).toBuilder().addStop(stop).build()));
        assertThat(r.text()).isEqualTo(full.substring(0, cut));
        assertThat(r.last().getFinishReason()).isEqualTo(FinishReason.FINISH_REASON_STOP);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(stats(stub).getStagesList()).allSatisfy(s -> assertThat(s.getSequences()).isZero()));
    }

    @Test
    void shouldRejectBadRequestsWithInvalidArgumentAndAClearMessage() throws Exception {
        var stub = startLoaded(1, 0, 8);
        assertInvalid(stub, GenerateRequest.newBuilder().setText("").build(), "prompt text is empty");
        assertInvalid(stub, GenerateRequest.newBuilder().build(), "prompt is missing: set text, chat or tokens");
        assertInvalid(stub, ids(4, 2, 97, 3), "prompt token id 97 at index 1 is outside the vocabulary [0, 97)");
        assertInvalid(stub, ids(4, 2, -1), "prompt token id -1 at index 1 is outside the vocabulary [0, 97)");
        assertInvalid(stub, ids(511, 2, 3), "prompt (2 tokens) + max_tokens (511) = 513 exceeds the context length 512");
        assertInvalid(stub, ids(4, new int[512]), "prompt has 512 tokens, which leaves no room in the context length 512");
        assertInvalid(stub, ids(-1, 2), "max_tokens=-1, expected >= 0 (0 = default)");
        assertInvalid(stub, ids(4, 2).toBuilder().setTemperature(Float.NaN).build(),
                "temperature=NaN, expected a finite number >= 0");
        assertInvalid(stub, ids(4, 2).toBuilder().setTemperature(-0.5f).build(),
                "temperature=-0.5, expected a finite number >= 0");
        assertInvalid(stub, ids(4, 2).toBuilder().setTopK(-3).build(), "top_k=-3, expected >= 0 (0 = off)");
        assertInvalid(stub, ids(4, 2).toBuilder().setTopP(Float.NaN).build(), "top_p=NaN, expected a number in (0, 1]");
        assertInvalid(stub, ids(4, 2).toBuilder().setMinP(-0.1f).build(), "min_p=-0.1, expected a number in [0, 1]");
        assertInvalid(stub, ids(4, 2).toBuilder().setRepetitionPenalty(0f).build(),
                "repetition_penalty=0.0, expected a finite number > 0");
        assertInvalid(stub, ids(4, 2).toBuilder().addStop("").build(), "stop[0] has 0 characters, expected 1..256");
    }

    private static void assertInvalid(InferenceGrpc.InferenceBlockingStub stub, GenerateRequest request, String message) {
        assertThatThrownBy(() -> stub.generate(request).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo(message);
                });
    }

    @Test
    void shouldFreeTheKvCacheOnEveryStageWhenTheClientCancels() throws Exception {
        var stub = startLoaded(3, 5, 8);
        var async = InferenceGrpc.newStub(channel);
        CountDownLatch three = new CountDownLatch(3);
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        async.generate(ids(150, endless(150)), new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                call.set(requestStream);
            }

            @Override
            public void onNext(GenerateResponse value) {
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
        assertThat(three.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stats(stub).getStagesList()).allSatisfy(s -> {
            assertThat(s.getSequences()).isEqualTo(1);
            assertThat(s.getCacheBytes()).isPositive();
        });
        call.get().cancel("client gave up", null);
        assertThat(Status.fromThrowable(ended.get(5, TimeUnit.SECONDS)).getCode()).isEqualTo(Status.Code.CANCELLED);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PipelineStats st = stats(stub);
            assertThat(st.getActiveSessions()).isZero();
            assertThat(st.getStagesList()).hasSize(3).allSatisfy(s -> {
                assertThat(s.getSequences()).isZero();
                assertThat(s.getCacheBytes()).isZero();
            });
        });
    }

    @Test
    void shouldFreeTheKvCacheOnEveryStageWhenTheDeadlineExpires() throws Exception {
        var stub = startLoaded(2, 5, 8);
        // ~10 ms per token through 2 stages: 150 tokens take ~1.5 s, the deadline cuts them after ~30.
        Iterator<GenerateResponse> it = stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS).generate(ids(150, endless(150)));
        assertThatThrownBy(() -> {
            while (it.hasNext()) {
                it.next();
            }
        }).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(stats(stub).getStagesList()).hasSize(2).allSatisfy(s -> {
                    assertThat(s.getSequences()).isZero();
                    assertThat(s.getCacheBytes()).isZero();
                }));
    }

    @Test
    void shouldRefuseWithResourceExhaustedWhenTooManySequencesRun() throws Exception {
        var stub = startLoaded(1, 5, 1);
        Iterator<GenerateResponse> first = stub.generate(ids(150, endless(150)));
        first.next();
        assertThatThrownBy(() -> stub.generate(ids(4, 2)).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription())
                            .isEqualTo("too many concurrent generations (limit 1); retry later (retry after 1000 ms)");
                    // gRPC's own retry advice, which clients with a retry policy obey
                    assertThat(e.getTrailers().get(RetryPushback.KEY)).isEqualTo("1000");
                });
    }

    @Test
    void shouldBatchManyConcurrentStreamsAndCompleteEachCorrectly() throws Exception {
        var stub = startLoaded(2, 3, 32);
        var async = InferenceGrpc.newStub(channel);
        int n = 16;
        List<CompletableFuture<List<Integer>>> results = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            int[] prompt = {2 + s, 10 + 3 * s, 50};
            prompts.add(prompt);
            CompletableFuture<List<Integer>> f = new CompletableFuture<>();
            results.add(f);
            List<Integer> got = new ArrayList<>();
            async.generate(ids(12, prompt), new StreamObserver<>() {
                @Override
                public void onNext(GenerateResponse value) {
                    got.addAll(value.getTokenIdsList());
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
        }
        for (int s = 0; s < n; s++) {
            assertThat(results.get(s).get(20, TimeUnit.SECONDS)).isEqualTo(expected(prompts.get(s), 12));
        }
        for (StageStats st : stats(stub).getStagesList()) {
            assertThat(st.getMultiSequenceBatches()).as("stage %d batches with > 1 sequence", st.getIndex()).isPositive();
            assertThat(st.getMaxBatchSequences()).isGreaterThan(1);
        }
    }

    @Test
    void shouldPauseTheRingForASlowClientAndFinishWhenItReads() throws Exception {
        var stub = startLoaded(2, 1, 8);
        var async = InferenceGrpc.newStub(channel);
        AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
        List<Integer> got = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> done = new CompletableFuture<>();
        int[] prompt = endless(200);
        async.generate(ids(200, prompt), new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(1);
            }

            @Override
            public void onNext(GenerateResponse value) {
                got.addAll(value.getTokenIdsList());
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(null);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> got.size() == 1);
        Thread.sleep(500);
        // The client took 1 response; the ring must have stopped near the queue limit, not run to 200.
        long rows = stats(stub).getStages(1).getRows();
        long expectedMax = prompt.length + 1 + catena.gateway.session.GenerationSession.PAUSE_AT + 2;
        assertThat(rows).isLessThanOrEqualTo(expectedMax);
        Thread.sleep(200);
        assertThat(stats(stub).getStages(1).getRows()).isEqualTo(rows);
        call.get().request(1000);
        done.get(20, TimeUnit.SECONDS);
        assertThat(got).isEqualTo(expected(prompt, 200));
    }

    @Test
    void shouldReportHealthServingOnlyOnceEveryStageIsLoaded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        StageEngineFactory toy = ToyEngine.factory(LAYERS, VOCAB, CONTEXT, 0);
        StageEngineFactory slow = (path, keepF32, from, to) -> {
            if (from > 0) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException("load interrupted");
                }
            }
            return toy.open(path, keepF32, from, to);
        };
        start(2, slow, 8);
        var health = HealthGrpc.newBlockingStub(channel);
        HealthCheckRequest all = HealthCheckRequest.getDefaultInstance();
        HealthCheckRequest inference = HealthCheckRequest.newBuilder().setService(InferenceGrpc.SERVICE_NAME).build();
        Thread.sleep(300);
        assertThat(health.check(all).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        assertThat(health.check(inference).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        assertThatThrownBy(() -> InferenceGrpc.newBlockingStub(channel).generate(ids(3, 2)).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        release.countDown();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(health.check(all).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING));
        assertThat(health.check(inference).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void shouldListTheInferenceServiceThroughReflection() throws Exception {
        startLoaded(1, 0, 8);
        CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
        var requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(new StreamObserver<>() {
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
        List<String> services = reply.get(5, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
        requests.onCompleted();
        assertThat(services).contains("catena.v1.Inference", "grpc.health.v1.Health");
    }

    @Test
    void shouldExposeServingAndStageMetricsThatCountWhatWasSent() throws Exception {
        var stub = startLoaded(2, 0, 8);
        Result a = collect(stub.generate(ids(6, 5, 40, 41)));
        Result b = collect(stub.generate(ids(4, 7, 8)));
        int port = node.serveMetrics(0);
        var http = java.net.http.HttpClient.newHttpClient();
        var response = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        var p = new catena.gateway.metrics.PrometheusText(response.body());
        int generated = a.tokens().size() + b.tokens().size();
        assertThat(p.value("catena_generation_tokens_total")).isEqualTo(generated);
        assertThat(p.value("catena_prompt_tokens_total")).isEqualTo(3 + 2);
        assertThat(p.count("catena_time_to_first_token_seconds")).isEqualTo(2);
        assertThat(p.count("catena_e2e_request_latency_seconds")).isEqualTo(2);
        assertThat(p.count("catena_request_queue_time_seconds")).isEqualTo(2);
        assertThat(p.count("catena_inter_token_latency_seconds")).isEqualTo(generated - 2);
        assertThat(p.value("catena_num_requests_running")).isZero();
        // the toy engine's rows: every prompt token and every generated token but each request's last
        assertThat(p.value("catena_stage_rows_total", "replica", "0", "stage", "0", "layers", "0-2"))
                .isEqualTo(3 + 2 + generated - 2);
        assertThat(p.value("catena_stage_rows_total", "replica", "0", "stage", "1", "layers", "2-4"))
                .isEqualTo(3 + 2 + generated - 2);
        assertThat(p.value("catena_stage_sequences", "replica", "0", "stage", "1")).isZero();
        assertThat(p.value("catena_kv_cache_usage_perc", "replica", "0", "stage", "0")).isBetween(0.0, 1.0);
        // ring hops: stage 1 receives the activations, stage 0 the sampled tokens; transit is measured
        for (String stage : new String[] {"0", "1"}) {
            assertThat(p.value("catena_stage_hops_total", "replica", "0", "stage", stage)).isPositive();
            assertThat(p.value("catena_stage_hop_seconds_total", "replica", "0", "stage", stage)).isGreaterThanOrEqualTo(0);
        }
        // gRPC server metrics from Micrometer's interceptor
        assertThat(p.families().keySet()).anyMatch(n -> n.startsWith("grpc_server"));
        var ready = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                + "/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("SERVING\n");
    }

    @Test
    void shouldSpreadConcurrentStreamsOverBothReplicasAndCompleteEachCorrectly() throws Exception {
        String name = InProcessServerBuilder.generateName();
        ServedModel model = ServedModel.of(Path.of("toy.gguf"), new ModelFacts("toy", LAYERS, ToyEngine.DIM, VOCAB,
                CONTEXT), new ToyTokenizer(VOCAB), null);
        long[] layerBytes = new long[LAYERS];
        Arrays.fill(layerBytes, 100);
        node = CatenaNode.embedded(PlanOwner.Settings.of(Path.of("toy.gguf"), false, 2, layerBytes).withReplicas(2), 2,
                model, ToyEngine.factory(LAYERS, VOCAB, CONTEXT, 3), TOY_STAGES, InProcessServerBuilder.forName(name),
                new GatewaySettings(64, Duration.ofSeconds(10)));
        channel = InProcessChannelBuilder.forName(name).build();
        await().atMost(Duration.ofSeconds(10)).until(() -> node.topology().current().ready().size() == 2);
        var async = InferenceGrpc.newStub(channel);
        int n = 16;
        var done = new java.util.concurrent.CountDownLatch(n);
        List<List<Integer>> got = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Integer> tokens = java.util.Collections.synchronizedList(new ArrayList<>());
            got.add(tokens);
            int[] prompt = {i + 2, 3 * i + 5, 7};
            prompts.add(prompt);
            async.generate(ids(24, prompt), new StreamObserver<>() {
                @Override
                public void onNext(GenerateResponse r) {
                    tokens.addAll(r.getTokenIdsList());
                }

                @Override
                public void onError(Throwable t) {
                    done.countDown();
                }

                @Override
                public void onCompleted() {
                    done.countDown();
                }
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < n; i++) {
            assertThat(got.get(i)).isEqualTo(expected(prompts.get(i), 24));
        }
        var stats = InferenceGrpc.newBlockingStub(channel).getPipelineStats(
                catena.v1.GetPipelineStatsRequest.getDefaultInstance()).getStagesList();
        assertThat(stats).hasSize(4);
        for (int r = 0; r < 2; r++) {
            int replica = r;
            assertThat(stats.stream().filter(s -> s.getReplica() == replica && s.getIndex() == 0).findFirst()
                    .orElseThrow().getRows()).as("rows run by replica %d", replica).isPositive();
        }
    }
}
