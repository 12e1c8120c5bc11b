package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.PipelineStats;
import catena.v1.StageStats;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * stories260K through a 2-stage pipeline: a gateway JVM and 2 worker JVMs forming a Pekko cluster
 * on 127.0.0.1, driven by real gRPC clients over loopback.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TwoStageClusterIT {
    private static final String MODEL = "stories/stories260K-q8_0.gguf";
    private static Cluster cluster;
    private static Path model;

    @BeforeAll
    static void start() throws Exception {
        model = Fixtures.file(MODEL);
        cluster = Cluster.serving(model, 2);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static PipelineStats stats() {
        return cluster.stub().getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
    }

    @Test
    void shouldTellLlamaCppsStory() throws Exception {
        var ref = Fixtures.reference(MODEL, "once");
        int[] story = Fixtures.ints(ref.get("generated"));
        int[] got = Streams.tokens(cluster.stub().generate(Streams.greedy(Fixtures.ints(ref.get("prompt")),
                story.length)));
        assertThat(got).containsExactly(story);
        assertThat(stats().getStagesList()).extracting(StageStats::getIndex).containsExactly(0, 1);
    }

    @Test
    void shouldCompleteSixteenConcurrentStreamsCorrectlyAndBatchThem() throws Exception {
        int n = 16;
        int maxTokens = 48;
        List<int[]> prompts = new ArrayList<>();
        List<int[]> want = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            int[] prompt = {1, 403, 407, 261 + 7 * s};
            prompts.add(prompt);
            want.add(Streams.reference(model, prompt, maxTokens));
        }
        long multiBefore = stats().getStages(0).getMultiSequenceBatches();
        var async = InferenceGrpc.newStub(cluster.channel());
        List<CompletableFuture<int[]>> results = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            CompletableFuture<int[]> f = new CompletableFuture<>();
            results.add(f);
            List<GenerateResponse> got = new ArrayList<>();
            async.generate(Streams.greedy(prompts.get(s), maxTokens), new StreamObserver<>() {
                @Override
                public void onNext(GenerateResponse value) {
                    got.add(value);
                }

                @Override
                public void onError(Throwable t) {
                    f.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    f.complete(Streams.tokens(got.iterator()));
                }
            });
        }
        for (int s = 0; s < n; s++) {
            assertThat(results.get(s).get(60, TimeUnit.SECONDS)).as("stream %d", s).containsExactly(want.get(s));
        }
        PipelineStats st = stats();
        assertThat(st.getStagesList()).hasSize(2).allSatisfy(stage -> {
            assertThat(stage.getMaxBatchSequences()).as("stage %d: most sequences in one batch", stage.getIndex())
                    .isGreaterThan(1);
            assertThat(stage.getSequences()).isZero();
        });
        assertThat(st.getStages(0).getMultiSequenceBatches()).isGreaterThan(multiBefore);
    }

    private static java.util.Map<String, org.hawkular.agent.prometheus.types.MetricFamily> workerMetrics(int w)
            throws Exception {
        String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + cluster.workerMetricsPort(w) + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        var walker = new org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker();
        new org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor(new java.io.ByteArrayInputStream(
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8)), walker).walk();
        var families = new java.util.HashMap<String, org.hawkular.agent.prometheus.types.MetricFamily>();
        walker.getAllMetricFamilies().forEach(f -> families.put(f.getName(), f));
        return families;
    }

    private static double counter(java.util.Map<String, org.hawkular.agent.prometheus.types.MetricFamily> families,
                                  String name) {
        assertThat(families).containsKey(name);
        return ((org.hawkular.agent.prometheus.types.Counter) families.get(name).getMetrics().getFirst()).getValue();
    }

    /**
     * The two worker JVMs pass activations and sampled tokens on their activation link, not
     * through Artery: every ring message into either stage came over it.
     */
    @Test
    void shouldCarryTheRingBetweenTheWorkerJvmsOnTheActivationLink() throws Exception {
        Streams.tokens(cluster.stub().generate(Streams.greedy(new int[] {1, 403, 407}, 8)));
        for (int w = 0; w < 2; w++) {
            var families = workerMetrics(w);
            double hops = counter(families, "catena_stage_hops_total");
            assertThat(hops).as("ring messages into worker %d", w).isPositive();
            assertThat(counter(families, "catena_stage_link_hops_total")).as("of them over the link, worker %d", w)
                    .isEqualTo(hops);
        }
    }

    /** Each worker's own /metrics parses as Prometheus text and counts what the gateway's stats say. */
    @Test
    void shouldServeEachWorkersOwnMetrics() throws Exception {
        Streams.tokens(cluster.stub().generate(Streams.greedy(new int[] {1, 403, 407}, 8)));
        PipelineStats st = stats();
        long rows = 0;
        for (int w = 0; w < 2; w++) {
            var families = workerMetrics(w);
            assertThat(families).containsKeys("catena_stage_rows_total", "catena_stage_busy_seconds_total",
                    "catena_kv_cache_usage_perc", "jvm_memory_used_bytes");
            var rowsMetric = (org.hawkular.agent.prometheus.types.Counter) families.get("catena_stage_rows_total")
                    .getMetrics().getFirst();
            int stage = Integer.parseInt(rowsMetric.getLabels().get("stage"));
            assertThat(rowsMetric.getValue()).as("worker %d = stage %d", w, stage)
                    .isEqualTo((double) st.getStages(stage).getRows());
            rows += (long) rowsMetric.getValue();
            var busy = (org.hawkular.agent.prometheus.types.Counter) families.get("catena_stage_busy_seconds_total")
                    .getMetrics().getFirst();
            assertThat(busy.getValue()).isPositive();
        }
        assertThat(rows).isEqualTo(st.getStages(0).getRows() + st.getStages(1).getRows());
    }

    @Test
    void shouldRejectBadRequestsWithInvalidArgument() {
        var stub = cluster.stub();
        int vocab = stub.getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance()).getVocabSize();
        int context = stub.getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance()).getContextLength();
        assertInvalid(GenerateRequest.newBuilder().setText("").build(), "prompt text is empty");
        assertInvalid(Streams.greedy(new int[] {1, vocab}, 4),
                "prompt token id " + vocab + " at index 1 is outside the vocabulary [0, " + vocab + ")");
        assertInvalid(Streams.greedy(new int[] {1, 403}, context),
                "prompt (2 tokens) + max_tokens (" + context + ") = " + (context + 2) + " exceeds the context length "
                        + context);
        assertInvalid(Streams.greedy(new int[context], 1),
                "prompt has " + context + " tokens, which leaves no room in the context length " + context);
        assertInvalid(Streams.greedy(new int[] {1}, 4).toBuilder().setTemperature(Float.NaN).build(),
                "temperature=NaN, expected a finite number >= 0");
        assertInvalid(Streams.greedy(new int[] {1}, 4).toBuilder().setTopK(-1).build(),
                "top_k=-1, expected >= 0 (0 = off)");
    }

    private static void assertInvalid(GenerateRequest request, String message) {
        assertThatThrownBy(() -> cluster.stub().generate(request).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).isEqualTo(message);
                });
    }

    @Test
    void shouldFreeTheKvCacheOnEveryStageWhenTheClientCancels() throws Exception {
        Throwable end = holdThenEnd(0, call -> call.cancel("client gave up", null));
        assertThat(Status.fromThrowable(end).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void shouldFreeTheKvCacheOnEveryStageWhenTheDeadlineExpires() throws Exception {
        Throwable end = holdThenEnd(3000, call -> {
        });
        assertThat(Status.fromThrowable(end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }

    /**
     * Starts a generation from a client that reads one response and has a tiny HTTP/2 window: the
     * server's transport fills, isReady turns false, the session's queue fills and it pauses the
     * ring, so the sequence stays on every stage, holding its KV cache. Checks that, lets
     * {@code stop} end the call (or the deadline, when deadlineMillis > 0), and checks that every
     * stage then holds no sequence and no cache bytes. Returns how the call ended.
     */
    private static Throwable holdThenEnd(long deadlineMillis,
                                         java.util.function.Consumer<ClientCallStreamObserver<GenerateRequest>> stop)
            throws Exception {
        io.grpc.ManagedChannel slow = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", cluster.grpcPort()).usePlaintext().flowControlWindow(64).build();
        try {
            var async = InferenceGrpc.newStub(slow);
            if (deadlineMillis > 0) {
                async = async.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
            }
            AtomicReference<ClientCallStreamObserver<GenerateRequest>> call = new AtomicReference<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            int context = cluster.stub().getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance())
                    .getContextLength();
            // The whole context: more tokens than the server's small per-stream buffer holds.
            async.generate(Streams.greedy(new int[] {1, 403, 407, 261, 378}, context - 5),
                    new ClientResponseObserver<GenerateRequest, GenerateResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                            call.set(requestStream);
                            requestStream.disableAutoRequestWithInitial(1);
                        }

                        @Override
                        public void onNext(GenerateResponse value) {
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
            await().atMost(Duration.ofSeconds(deadlineMillis > 0 ? deadlineMillis / 1000 : 20))
                    .untilAsserted(() -> assertThat(stats().getStagesList()).allSatisfy(s -> {
                        assertThat(s.getSequences()).isEqualTo(1);
                        assertThat(s.getCacheBytes()).isPositive();
                    }));
            stop.accept(call.get());
            Throwable end = ended.get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                PipelineStats st = stats();
                assertThat(st.getActiveSessions()).isZero();
                assertThat(st.getStagesList()).hasSize(2).allSatisfy(s -> {
                    assertThat(s.getSequences()).isZero();
                    assertThat(s.getCacheBytes()).isZero();
                });
            });
            return end;
        } finally {
            slow.shutdownNow();
        }
    }

    @Test
    void shouldListTheInferenceServiceThroughReflection() throws Exception {
        CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
        var requests = ServerReflectionGrpc.newStub(cluster.channel()).serverReflectionInfo(new StreamObserver<>() {
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
        List<String> services = reply.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                .map(s -> s.getName()).toList();
        requests.onCompleted();
        assertThat(services).contains("catena.v1.Inference", "grpc.health.v1.Health");
    }
}
