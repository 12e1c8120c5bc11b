package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.app.CatenaNode;
import catena.gateway.cluster.PipelineCoordinator;
import catena.gateway.model.ServedModel;
import catena.shard.generate.Generator;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenPrompt;
import catena.worker.engine.StageEngineFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The embedded pipeline with the real engine: greedy tokens streamed by Generate through 1, 2 and
 * 3 stages are identical to the engine's own single-process generation loop (and, for
 * stories260K, to llama.cpp's story).
 */
class RealModelPipelineTest {

    static Path fixtures() {
        String dir = System.getProperty("catena.fixtures");
        Path p = dir == null ? null : Path.of(dir);
        if (p == null || !Files.isDirectory(p)) {
            throw new IllegalStateException("fixtures not found: system property catena.fixtures=" + dir
                    + " (expected ../shared/fixtures next to the project)");
        }
        return p;
    }

    static Path fixture(String relative) {
        Path p = fixtures().resolve(relative);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("fixture not found: " + p);
        }
        return p;
    }

    /** Greedy tokens streamed by an embedded pipeline of {@code stages} stages. */
    static List<Integer> pipelineTokens(Path model, boolean keepF32, int stages, int[] prompt, int maxTokens)
            throws Exception {
        String name = InProcessServerBuilder.generateName();
        var settings = new PipelineCoordinator.Settings(model, keepF32, stages, Model.layerBytes(model));
        try (CatenaNode node = CatenaNode.embedded(settings, ServedModel.open(model), StageEngineFactory.MODEL,
                InProcessServerBuilder.forName(name), 8)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> node.pipelineState().current() != null);
            ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
            try {
                TokenPrompt.Builder p = TokenPrompt.newBuilder();
                Arrays.stream(prompt).forEach(p::addIds);
                Iterator<GenerateResponse> it = InferenceGrpc.newBlockingStub(channel)
                        .generate(GenerateRequest.newBuilder().setTokens(p).setMaxTokens(maxTokens).build());
                List<Integer> tokens = new ArrayList<>();
                it.forEachRemaining(r -> tokens.addAll(r.getTokenIdsList()));
                return tokens;
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    static List<Integer> engineTokens(Path model, boolean keepF32, int[] prompt, int maxTokens) throws Exception {
        try (Model m = Model.load(model, LoadOptions.keepF32(keepF32))) {
            ServedModel served = ServedModel.open(model);
            int[] t = new Generator(m, served.tokenizer()).generate(prompt, SamplingParams.GREEDY, maxTokens, null)
                    .tokens();
            return Arrays.stream(t).boxed().toList();
        }
    }

    @ParameterizedTest(name = "{0} in {1} stage(s)")
    @CsvSource({
        "tiny/tiny-llama-q8_0.gguf, 1", "tiny/tiny-llama-q8_0.gguf, 2",
        "tiny/tiny-gemma-q8_0.gguf, 2", "tiny/tiny-gemma2-q8_0.gguf, 2",
        "tiny/tiny-gemma3-q8_0.gguf, 1", "tiny/tiny-gemma3-q8_0.gguf, 2", "tiny/tiny-gemma3-f32.gguf, 3",
    })
    void shouldStreamTheEnginesGreedyTokens(String file, int stages) throws Exception {
        Path model = fixture(file);
        boolean keepF32 = file.contains("f32");
        int[] prompt = {2, 17, 300, 45, 9, 600, 71, 5, 230};
        List<Integer> want = engineTokens(model, keepF32, prompt, 24);
        assertThat(want).isNotEmpty();
        assertThat(pipelineTokens(model, keepF32, stages, prompt, 24)).isEqualTo(want);
    }

    @ParameterizedTest(name = "stories260K-{0} in {1} stage(s)")
    @CsvSource({"f32, 1", "f32, 2", "f32, 3", "q8_0, 3"})
    void shouldTellLlamaCppsStoryThroughEveryPipeline(String weights, int stages) throws Exception {
        JsonNode ref = storyReference(weights);
        int[] prompt = ints(ref.get("prompt"));
        int[] story = ints(ref.get("generated"));
        Path model = fixture("stories/stories260K-" + weights + ".gguf");
        assertThat(pipelineTokens(model, weights.equals("f32"), stages, prompt, story.length))
                .isEqualTo(Arrays.stream(story).boxed().toList());
    }

    @Test
    void shouldTokenizeTextAndChatPromptsWithTheModelsTokenizerAndTemplate() throws Exception {
        Path model = fixture("tiny/tiny-gemma3-q8_0.gguf");
        ServedModel served = ServedModel.open(model);
        String name = InProcessServerBuilder.generateName();
        var settings = new PipelineCoordinator.Settings(model, false, 2, Model.layerBytes(model));
        int[] textIds = served.tokenizer().encode("hello world", true, false);
        int[] chatIds = served.tokenizer().encode(served.chatTemplate().render(
                List.of(new catena.shard.tokenizer.ChatMessage("user", "hello")), true), true, true);
        List<Integer> textWant = engineTokens(model, false, textIds, 12);
        List<Integer> chatWant = engineTokens(model, false, chatIds, 12);
        try (CatenaNode node = CatenaNode.embedded(settings, served, StageEngineFactory.MODEL,
                InProcessServerBuilder.forName(name), 8)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> node.pipelineState().current() != null);
            ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
            try {
                var stub = InferenceGrpc.newBlockingStub(channel);
                List<Integer> text = new ArrayList<>();
                StringBuilder streamed = new StringBuilder();
                stub.generate(GenerateRequest.newBuilder().setText("hello world").setMaxTokens(12).build())
                        .forEachRemaining(r -> {
                            text.addAll(r.getTokenIdsList());
                            streamed.append(r.getText());
                        });
                assertThat(text).isEqualTo(textWant);
                assertThat(streamed.toString()).isEqualTo(served.tokenizer().decode(
                        textWant.stream().mapToInt(Integer::intValue).toArray()));
                List<Integer> chat = new ArrayList<>();
                stub.generate(GenerateRequest.newBuilder().setMaxTokens(12).setChat(catena.v1.ChatPrompt.newBuilder()
                                .addMessages(catena.v1.ChatMessage.newBuilder().setRole("user").setContent("hello")))
                        .build()).forEachRemaining(r -> chat.addAll(r.getTokenIdsList()));
                assertThat(chat).isEqualTo(chatWant);
                assertThat(stub.tokenize(catena.v1.TokenizeRequest.newBuilder().setText("hello world").setAddBos(true)
                        .build()).getIdsList()).containsExactly(Arrays.stream(textIds).boxed().toArray(Integer[]::new));
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    static JsonNode storyReference(String weights) throws Exception {
        Path index = fixture("refs/index.json");
        for (JsonNode c : new ObjectMapper().readTree(index.toFile())) {
            if (c.get("prompt_name").asText().equals("once") && c.get("weights").asText().equals(weights)
                    && c.get("kv_cache").asText().equals("f32")) {
                return c;
            }
        }
        throw new IllegalStateException("no 'once' case for stories260K " + weights + " in " + index);
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = array.get(i).asInt();
        }
        return a;
    }

    @Test
    void shouldRefuseMoreStagesThanLayers() {
        Path model = fixture("tiny/tiny-llama-q8_0.gguf");
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        new PipelineCoordinator.Settings(model, false, 99, Model.layerBytes(model)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stages=99, expected 1..");
    }
}
