package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.app.CatenaNode;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.shard.generate.Generator;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.v1.GenerateRequest;
import catena.v1.InferenceGrpc;
import catena.worker.engine.StageEngineFactory;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Text and chat prompts through the embedded pipeline with the real engine: the gateway's
 * tokenizer and chat template give the prompt ids the engine's own loop would use, and the
 * streamed tokens and text are the engine's. (Greedy equivalence per model and stage count:
 * catena.gateway.model.RealModelPipelineTest.)
 */
class ChatPromptPipelineTest {

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

    static List<Integer> engineTokens(Path model, boolean keepF32, int[] prompt, int maxTokens) throws Exception {
        try (Model m = Model.load(model, LoadOptions.keepF32(keepF32))) {
            ServedModel served = ServedModel.open(model);
            int[] t = new Generator(m, served.tokenizer()).generate(prompt, SamplingParams.GREEDY, maxTokens, null)
                    .tokens();
            return Arrays.stream(t).boxed().toList();
        }
    }

    @Test
    void shouldTokenizeTextAndChatPromptsWithTheModelsTokenizerAndTemplate() throws Exception {
        Path model = fixture("tiny/tiny-gemma3-q8_0.gguf");
        ServedModel served = ServedModel.open(model);
        String name = InProcessServerBuilder.generateName();
        var settings = PlanOwner.Settings.of(model, false, 2, Model.layerBytes(model));
        int[] textIds = served.tokenizer().encode("hello world", true, false);
        int[] chatIds = served.tokenizer().encode(served.chatTemplate().render(
                List.of(new catena.shard.tokenizer.ChatMessage("user", "hello")), true), true, true);
        List<Integer> textWant = engineTokens(model, false, textIds, 12);
        List<Integer> chatWant = engineTokens(model, false, chatIds, 12);
        try (CatenaNode node = CatenaNode.embedded(settings, served, StageEngineFactory.MODEL,
                InProcessServerBuilder.forName(name), 8)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().serving());
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

    @Test
    void shouldRefuseMoreStagesThanLayers() {
        Path model = fixture("tiny/tiny-llama-q8_0.gguf");
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        PlanOwner.Settings.of(model, false, 99, Model.layerBytes(model)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stages=99, expected 1..");
    }
}
