package catena.gateway.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.Fixtures;
import catena.gateway.app.CatenaNode;
import catena.gateway.app.StageSettings;
import catena.gateway.cluster.PlanOwner;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.PipelineStats;
import catena.v1.TokenPrompt;
import catena.worker.engine.StageEngineFactory;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The prefix cache changes nothing a client sees: several prompts sharing a 40-token system
 * prompt, served by an embedded node with the cache on and by one with it off, stream the same
 * tokens and the same top-20 log-probabilities (the log-softmax of the logits, so equal floats
 * mean equal logits up to a shift) bit for bit, sent one after another (each later one attaching
 * what the earlier ones computed) and together (attaching while batched with each other and with
 * a sequence decoding), greedy and seeded sampling, through 1 and 2 stages. The cache must
 * really have been used: the stats show hits on stage 0 and no later-stage miss.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PrefixCacheIdentityTest {
    private static final int SYSTEM = 40;
    private static final int TOP = 20;
    private static final int MAX_TOKENS = 12;

    /** One streamed answer: token ids and, per token, its log-probability and the top alternatives'. */
    private record Answer(List<Integer> tokens, List<String> logprobs) {
    }

    private static int[][] prompts(int vocab) {
        Random rnd = new Random(11);
        int[] system = new int[SYSTEM];
        for (int i = 0; i < SYSTEM; i++) {
            system[i] = 10 + rnd.nextInt(vocab - 10);
        }
        int[] tails = {1, 9, 24, 3, 17};
        int[][] out = new int[tails.length][];
        for (int p = 0; p < tails.length; p++) {
            out[p] = java.util.Arrays.copyOf(system, SYSTEM + tails[p]);
            for (int i = SYSTEM; i < out[p].length; i++) {
                out[p][i] = 10 + rnd.nextInt(vocab - 10);
            }
        }
        return out;
    }

    private static GenerateRequest request(int[] prompt, int i) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        for (int t : prompt) {
            p.addIds(t);
        }
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setTokens(p).setMaxTokens(MAX_TOKENS).setLogprobs(TOP);
        // odd prompts sample (seeded), even ones are greedy
        return i % 2 == 0 ? b.setTemperature(0).build() : b.setTemperature(0.9f).setTopP(0.95f).setSeed(5 + i).build();
    }

    private static CompletableFuture<Answer> send(InferenceGrpc.InferenceStub stub, GenerateRequest r,
                                                  CompletableFuture<Void> firstToken) {
        CompletableFuture<Answer> done = new CompletableFuture<>();
        List<Integer> tokens = new ArrayList<>();
        List<String> logprobs = new ArrayList<>();
        stub.generate(r, new StreamObserver<>() {
            @Override
            public void onNext(GenerateResponse v) {
                tokens.addAll(v.getTokenIdsList());
                for (var lp : v.getLogprobsList()) {
                    StringBuilder s = new StringBuilder().append(lp.getToken().getId()).append(':')
                            .append(Float.floatToRawIntBits(lp.getToken().getLogprob()));
                    for (var alt : lp.getTopList()) {
                        s.append(' ').append(alt.getId()).append(':').append(Float.floatToRawIntBits(alt.getLogprob()));
                    }
                    logprobs.add(s.toString());
                }
                if (firstToken != null) {
                    firstToken.complete(null);
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(new Answer(tokens, logprobs));
            }
        });
        return done;
    }

    /** Serves {@code model} through {@code stages} stages with the cache on or off, runs every prompt both ways. */
    private static List<Answer> run(Path model, int stages, boolean cache, int[][] prompts, List<PipelineStats> stats)
            throws Exception {
        StageSettings settings = StageSettings.defaults().withWarmupRounds(0).withPrefixCache(cache);
        try (CatenaNode node = CatenaNode.embedded(PlanOwner.Settings.forModel(model, true, stages, 1, 0), 1,
                ServedModel.open(model), StageEngineFactory.MODEL, settings,
                Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()),
                new CatenaNode.GatewaySettings(32, Duration.ofSeconds(10)))) {
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", node.port(),
                    InsecureChannelCredentials.create()).build();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> node.topology().serving());
                var stub = InferenceGrpc.newStub(channel);
                List<Answer> out = new ArrayList<>();
                // apart: one after another
                for (int i = 0; i < prompts.length; i++) {
                    out.add(send(stub, request(prompts[i], i), null).get(60, TimeUnit.SECONDS));
                }
                // together: the first decodes while the rest arrive at once and run batched with it
                CompletableFuture<Void> started = new CompletableFuture<>();
                List<CompletableFuture<Answer>> together = new ArrayList<>();
                together.add(send(stub, request(prompts[0], 100), started));
                started.get(60, TimeUnit.SECONDS);
                for (int i = 1; i < prompts.length; i++) {
                    together.add(send(stub, request(prompts[i], 100 + i), null));
                }
                for (var f : together) {
                    out.add(f.get(60, TimeUnit.SECONDS));
                }
                stats.add(InferenceGrpc.newBlockingStub(channel).getPipelineStats(
                        GetPipelineStatsRequest.getDefaultInstance()));
                return out;
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @ParameterizedTest(name = "{0} through {1} stage(s)")
    @CsvSource({"tiny/tiny-gemma3-f32.gguf, 1", "tiny/tiny-gemma3-f32.gguf, 2", "tiny/tiny-llama-f32.gguf, 2",
        "tiny/tiny-gemma4-f32.gguf, 1", "tiny/tiny-gemma3-q8_0.gguf, 2"})
    void shouldStreamTheSameTokensAndLogprobsWithTheCacheOnAndOff(String file, int stages) throws Exception {
        Path model = Fixtures.file(file);
        int vocab = ServedModel.open(model).tokenizer().vocabSize();
        int[][] prompts = prompts(vocab);
        List<PipelineStats> stats = new ArrayList<>();
        List<Answer> off = run(model, stages, false, prompts, stats);
        List<Answer> on = run(model, stages, true, prompts, stats);
        for (int i = 0; i < off.size(); i++) {
            assertThat(on.get(i).tokens()).as("%s: tokens of request %d", file, i).containsExactlyElementsOf(off.get(i).tokens());
            // an end token may stop a sequence early, alike with and without the cache
            assertThat(on.get(i).tokens()).isNotEmpty();
            assertThat(on.get(i).logprobs()).as("%s: logprobs of request %d", file, i)
                    .containsExactlyElementsOf(off.get(i).logprobs());
        }
        var offStage0 = stats.get(0).getStages(0);
        var onStats = stats.get(1);
        assertThat(offStage0.getPrefixHitTokens()).isZero();
        // apart: prompts 1..4 hit the 2 system blocks (32 tokens); together: all 5 hit them
        assertThat(onStats.getStages(0).getPrefixHitTokens()).as("tokens attached from the cache")
                .isGreaterThanOrEqualTo(9 * 32);
        for (var s : onStats.getStagesList()) {
            assertThat(s.getPrefixMisses()).isZero();
            assertThat(s.getPrefixCachedBlocks()).isPositive();
        }
    }
}
