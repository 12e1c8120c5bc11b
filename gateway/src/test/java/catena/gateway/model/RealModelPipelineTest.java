package catena.gateway.model;

import static org.assertj.core.api.Assertions.assertThat;

import catena.gateway.Fixtures;
import catena.gateway.app.CatenaNode;
import catena.gateway.cluster.PlanOwner;
import catena.shard.generate.Generator;
import catena.shard.model.LoadOptions;
import catena.shard.model.KvCache;
import catena.shard.model.Batch;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.v1.FinishReason;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.TokenPrompt;
import catena.worker.engine.StageEngineFactory;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.awaitility.Awaitility.await;

/**
 * Real models through the embedded pipeline (gateway + N stage actors in one JVM) over gRPC on
 * loopback: greedy tokens must be exactly those of the one-JVM reference loop ({@link Generator}),
 * whatever the number of stages, and stories260K must tell llama.cpp's story.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RealModelPipelineTest {
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

    private InferenceGrpc.InferenceBlockingStub serve(Path model, int stages) throws Exception {
        node = CatenaNode.embedded(PlanOwner.Settings.forModel(model, false, stages, 1, 0), ServedModel.open(model),
                StageEngineFactory.MODEL, Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()), 32);
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", node.port(), InsecureChannelCredentials.create())
                .build();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().serving());
        return InferenceGrpc.newBlockingStub(channel);
    }

    private static GenerateRequest greedy(int[] prompt, int maxTokens) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(prompt).forEach(p::addIds);
        return GenerateRequest.newBuilder().setTokens(p).setMaxTokens(maxTokens).setTemperature(0).build();
    }

    private record Streamed(int[] tokens, String text, GenerateResponse last) {
    }

    private static Streamed collect(Iterator<GenerateResponse> it) {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        GenerateResponse last = null;
        while (it.hasNext()) {
            last = it.next();
            tokens.addAll(last.getTokenIdsList());
            text.append(last.getText());
        }
        return new Streamed(tokens.stream().mapToInt(Integer::intValue).toArray(), text.toString(), last);
    }

    private static Generator.Result reference(Path model, int[] prompt, int maxTokens) throws Exception {
        ServedModel served = ServedModel.open(model);
        try (Model m = Model.load(model, LoadOptions.defaults())) {
            return new Generator(m, served.tokenizer()).generate(prompt, SamplingParams.GREEDY, maxTokens, null);
        }
    }

    /**
     * gRPC logprobs of greedy tokens against the engine's own logits at those positions
     * (teacher-forced through the prompt and the generated tokens), log-softmaxed here in double.
     */
    @Test
    void shouldReportLogprobsThatAreTheLogSoftmaxOfTheEnginesLogits() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        int[] prompt = {1, 403, 407, 261, 378};
        int top = 3;
        var stub = serve(file, 2);
        List<catena.v1.TokenLogprobs> got = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        stub.generate(greedy(prompt, 12).toBuilder().setLogprobs(top).build()).forEachRemaining(r -> {
            got.addAll(r.getLogprobsList());
            ids.addAll(r.getTokenIdsList());
        });
        assertThat(got).hasSize(ids.size()).hasSize(12);
        try (Model m = Model.load(file, LoadOptions.defaults())) {
            int vocab = m.config().vocabSize();
            int dim = m.config().dim();
            KvCache cache = m.newCache();
            float[] logits = new float[vocab];
            int[] seq = new int[prompt.length + ids.size()];
            System.arraycopy(prompt, 0, seq, 0, prompt.length);
            for (int i = 0; i < ids.size(); i++) {
                seq[prompt.length + i] = ids.get(i);
            }
            float[] x = new float[prompt.length * dim];
            m.embed(seq, 0, prompt.length, x);
            m.forward(new Batch().add(cache, seq, 0, prompt.length), x);
            for (int step = 0; step < ids.size(); step++) {
                if (step > 0) {
                    m.embed(seq, prompt.length + step - 1, 1, x);
                    m.forward(new Batch().add(cache, seq, prompt.length + step - 1, 1), x);
                    m.logits(x, 0, logits);
                } else {
                    m.logits(x, prompt.length - 1, logits);
                }
                double max = Double.NEGATIVE_INFINITY;
                for (float l : logits) {
                    max = Math.max(max, l);
                }
                double sum = 0;
                for (float l : logits) {
                    sum += Math.exp(l - max);
                }
                double logZ = max + Math.log(sum);
                catena.v1.TokenLogprobs lp = got.get(step);
                assertThat(lp.getToken().getId()).isEqualTo(ids.get(step));
                assertThat((double) lp.getToken().getLogprob()).as("step %d", step)
                        .isCloseTo(logits[ids.get(step)] - logZ, org.assertj.core.data.Offset.offset(1e-4));
                Integer[] order = new Integer[vocab];
                for (int v = 0; v < vocab; v++) {
                    order[v] = v;
                }
                final float[] l = logits.clone();
                Arrays.sort(order, (a, b) -> Float.compare(l[b], l[a]));
                assertThat(lp.getTopList()).hasSize(top);
                for (int k = 0; k < top; k++) {
                    assertThat(lp.getTop(k).getId()).as("step %d, alternative %d", step, k).isEqualTo(order[k]);
                    assertThat((double) lp.getTop(k).getLogprob())
                            .isCloseTo(l[order[k]] - logZ, org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} through {1} stage(s)")
    @CsvSource({
        "tiny/tiny-llama-q8_0.gguf, 1", "tiny/tiny-llama-q8_0.gguf, 2", "tiny/tiny-llama-q8_0.gguf, 3",
        "tiny/tiny-gemma-q8_0.gguf, 1", "tiny/tiny-gemma-q8_0.gguf, 2", // tiny-gemma has only 2 layers
        "tiny/tiny-gemma2-q8_0.gguf, 1", "tiny/tiny-gemma2-q8_0.gguf, 2", "tiny/tiny-gemma2-q8_0.gguf, 3",
        "tiny/tiny-gemma3-q8_0.gguf, 1", "tiny/tiny-gemma3-q8_0.gguf, 2", "tiny/tiny-gemma3-q8_0.gguf, 3",
        // The tiny Gemma 4 models share KV across all their layers: no stage boundary is allowed.
        "tiny/tiny-gemma4-q8_0.gguf, 1", "tiny/tiny-gemma4-ple-q8_0.gguf, 1", "tiny/tiny-gemma4-moe-q8_0.gguf, 1",
    })
    void shouldStreamTheReferenceLoopsGreedyTokensThroughEveryStageCount(String model, int stages) throws Exception {
        Path file = Fixtures.file(model);
        int[] prompt = Fixtures.ints(Fixtures.reference(model, "rand40").get("prompt"));
        Generator.Result want = reference(file, prompt, 32);
        var stub = serve(file, stages);
        assertThat(stub.getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance()).getStagesList())
                .hasSize(stages);
        Streamed got = collect(stub.generate(greedy(prompt, 32)));
        // The stream also carries the end-of-generation token, which the reference loop leaves out.
        int[] tokens = got.last().getFinishReason() == FinishReason.FINISH_REASON_EOS
                ? Arrays.copyOf(got.tokens(), got.tokens().length - 1) : got.tokens();
        assertThat(tokens).as("greedy tokens of %s through %d stage(s)", model, stages).containsExactly(want.tokens());
        assertThat(got.text()).isEqualTo(want.text());
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(stub
                .getPipelineStats(GetPipelineStatsRequest.getDefaultInstance()).getStagesList())
                .allSatisfy(s -> assertThat(s.getCacheBytes()).isZero()));
    }

    @ParameterizedTest(name = "stories260K through {0} stage(s)")
    @CsvSource({"1", "2", "3"})
    void shouldTellLlamaCppsStoryThroughEveryStageCount(int stages) throws Exception {
        String model = "stories/stories260K-q8_0.gguf";
        var ref = Fixtures.reference(model, "once");
        int[] prompt = Fixtures.ints(ref.get("prompt"));
        int[] story = Fixtures.ints(ref.get("generated"));
        var stub = serve(Fixtures.file(model), stages);
        Streamed got = collect(stub.generate(greedy(prompt, story.length)));
        assertThat(got.tokens()).containsExactly(story);
        assertThat(got.last().getFinishReason()).isEqualTo(FinishReason.FINISH_REASON_LENGTH);
    }

    @Test
    void shouldServeTextPromptsWithTheModelsTokenizer() throws Exception {
        String model = "stories/stories260K-q8_0.gguf";
        var ref = Fixtures.reference(model, "once");
        var stub = serve(Fixtures.file(model), 2);
        int[] prompt = Fixtures.ints(ref.get("prompt"));
        Streamed byIds = collect(stub.generate(greedy(prompt, 16)));
        Streamed byText = collect(stub.generate(GenerateRequest.newBuilder().setText("Once upon a time")
                .setMaxTokens(16).build()));
        int[] tokenized = stub.tokenize(catena.v1.TokenizeRequest.newBuilder().setText("Once upon a time")
                .setAddBos(true).build()).getIdsList().stream().mapToInt(Integer::intValue).toArray();
        assertThat(tokenized).containsExactly(prompt);
        assertThat(byText.tokens()).containsExactly(byIds.tokens());
        assertThat(byText.text()).isEqualTo(byIds.text()).isNotBlank();
    }

    @ParameterizedTest(name = "seeded sampling through {0} stage(s) x {1} replica(s)")
    @CsvSource({"1, 1", "2, 2"})
    void shouldSampleTheSameTokensAsTheEngineLoopForTheSameSeed(int stages, int replicas) throws Exception {
        // One meaning of (seed, step) everywhere: catena-shard generate and the server agree.
        String model = "stories/stories260K-q8_0.gguf";
        Path file = Fixtures.file(model);
        int[] prompt = Fixtures.ints(Fixtures.reference(model, "once").get("prompt"));
        SamplingParams params = new SamplingParams(0.8f, 0, 0.9f, 0f, 1f, 64, 7L);
        ServedModel served = ServedModel.open(file);
        int[] want;
        try (Model m = Model.load(file, LoadOptions.defaults())) {
            want = new Generator(m, served.tokenizer()).generate(prompt, params, 40, null).tokens();
        }
        node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, stages, replicas, 0), served,
                StageEngineFactory.MODEL, Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()), 32);
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", node.port(), InsecureChannelCredentials.create())
                .build();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().current().ready().size() == replicas);
        var stub = InferenceGrpc.newBlockingStub(channel);
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(prompt).forEach(p::addIds);
        for (int i = 0; i < replicas * 2; i++) {
            Streamed got = collect(stub.generate(GenerateRequest.newBuilder().setTokens(p).setMaxTokens(40)
                    .setTemperature(0.8f).setTopP(0.9f).setSeed(7).build()));
            int[] tokens = got.last().getFinishReason() == FinishReason.FINISH_REASON_EOS
                    ? Arrays.copyOf(got.tokens(), got.tokens().length - 1) : got.tokens();
            assertThat(tokens).containsExactly(want);
        }
        var info = stub.getModelInfo(catena.v1.GetModelInfoRequest.getDefaultInstance());
        assertThat(info.getReplicasList()).hasSize(replicas).allSatisfy(r -> {
            assertThat(r.getReady()).isTrue();
            assertThat(r.getStagesList()).hasSize(stages);
        });
    }
}
