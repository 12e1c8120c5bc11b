package catena.gateway.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.Fixtures;
import catena.gateway.app.CatenaNode;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.v1.ChatMessage;
import catena.v1.ChatPrompt;
import catena.v1.FinishReason;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.worker.engine.StageEngineFactory;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API through the official OpenAI Java client against an embedded server on stories260K:
 * streamed and whole completions and chat completions carry exactly the tokens, text and
 * log-probabilities the gRPC path gives for the same greedy request (asked of the same server).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenAiClientTest {
    private static final String PROMPT = "Once upon a time";
    private static final int MAX_TOKENS = 24;
    private static final int TOP = 2;

    private static CatenaNode node;
    private static ManagedChannel channel;
    private static InferenceGrpc.InferenceBlockingStub grpc;
    private static OpenAIClient openai;
    private static ServedModel served;

    @BeforeAll
    static void start() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        served = ServedModel.open(file);
        String name = InProcessServerBuilder.generateName();
        node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0), served,
                StageEngineFactory.MODEL, InProcessServerBuilder.forName(name), 8);
        int port = node.serveOpenAi("127.0.0.1", 0, catena.gateway.security.Access.OPEN);
        await().atMost(Duration.ofSeconds(60)).until(() -> node.topology().serving());
        channel = InProcessChannelBuilder.forName(name).build();
        grpc = InferenceGrpc.newBlockingStub(channel);
        openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (openai != null) {
            openai.close();
        }
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
    }

    /** What the gRPC path streams for a greedy request: ids, text, chosen-token logprobs, finish, usage. */
    private record Reference(List<Integer> ids, String text, List<Float> logprobs, List<List<Integer>> top,
                             FinishReason finish, int promptTokens, int completionTokens) {
        List<String> pieces() {
            return ids.stream().map(OpenAiClientTest::piece).toList();
        }

        String openAiFinish() {
            return finish == FinishReason.FINISH_REASON_LENGTH ? "length" : "stop";
        }
    }

    private static String piece(int id) {
        return new String(served.tokenizer().tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Reference reference(GenerateRequest.Builder request) {
        List<Integer> ids = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        List<List<Integer>> top = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        GenerateResponse last = null;
        var it = grpc.generate(request.setMaxTokens(MAX_TOKENS).setLogprobs(TOP).build());
        while (it.hasNext()) {
            last = it.next();
            ids.addAll(last.getTokenIdsList());
            text.append(last.getText());
            for (var lp : last.getLogprobsList()) {
                logprobs.add(lp.getToken().getLogprob());
                top.add(lp.getTopList().stream().map(c -> c.getId()).toList());
            }
        }
        assertThat(ids).isNotEmpty();
        return new Reference(ids, text.toString(), logprobs, top, last.getFinishReason(),
                last.getUsage().getPromptTokens(), last.getUsage().getCompletionTokens());
    }

    private static Reference textReference() {
        return reference(GenerateRequest.newBuilder().setText(PROMPT));
    }

    private static Reference chatReference() {
        return reference(GenerateRequest.newBuilder().setChat(ChatPrompt.newBuilder()
                .addMessages(ChatMessage.newBuilder().setRole("user").setContent(PROMPT))));
    }

    private static CompletionCreateParams.Builder completion() {
        return CompletionCreateParams.builder().model(served.name()).prompt(PROMPT).maxTokens(MAX_TOKENS)
                .temperature(0.0).logprobs(TOP);
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return ChatCompletionCreateParams.builder().model(served.name()).addUserMessage(PROMPT)
                .maxCompletionTokens(MAX_TOKENS).temperature(0.0).logprobs(true).topLogprobs(TOP);
    }

    private static void assertUsage(CompletionUsage usage, Reference want) {
        assertThat(usage.promptTokens()).isEqualTo(want.promptTokens());
        assertThat(usage.completionTokens()).isEqualTo(want.completionTokens());
        assertThat(usage.totalTokens()).isEqualTo(want.promptTokens() + want.completionTokens());
    }

    private static List<Float> floats(List<Double> values) {
        return values.stream().map(Double::floatValue).toList();
    }

    @Test
    void shouldStreamACompletionWithTheGrpcGreedyTokensLogprobsAndUsage() {
        Reference want = textReference();
        StringBuilder text = new StringBuilder();
        List<String> tokens = new ArrayList<>();
        List<Double> logprobs = new ArrayList<>();
        List<String> finish = new ArrayList<>();
        List<CompletionUsage> usage = new ArrayList<>();
        try (StreamResponse<Completion> s = openai.completions().createStreaming(completion()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(c -> {
                c.usage().ifPresent(usage::add);
                for (CompletionChoice choice : c.choices()) {
                    text.append(choice.text());
                    choice._finishReason().asKnown().ifPresent(f -> finish.add(f.asString()));
                    choice.logprobs().ifPresent(lp -> {
                        tokens.addAll(lp.tokens().orElseThrow());
                        logprobs.addAll(lp.tokenLogprobs().orElseThrow());
                        assertThat(lp.topLogprobs().orElseThrow()).allSatisfy(t ->
                                assertThat(t._additionalProperties()).hasSize(TOP));
                    });
                }
            });
        }
        assertThat(tokens).isEqualTo(want.pieces());
        assertThat(text.toString()).isEqualTo(want.text());
        assertThat(String.join("", tokens)).isEqualTo(want.text());
        assertThat(floats(logprobs)).isEqualTo(want.logprobs());
        assertThat(finish).containsExactly(want.openAiFinish());
        assertThat(usage).hasSize(1);
        assertUsage(usage.get(0), want);
    }

    @Test
    void shouldReturnAWholeCompletionWithTheGrpcGreedyTokens() {
        Reference want = textReference();
        Completion c = openai.completions().create(completion().build());
        CompletionChoice choice = c.choices().get(0);
        assertThat(choice.text()).isEqualTo(want.text());
        assertThat(choice.finishReason().asString()).isEqualTo(want.openAiFinish());
        assertThat(choice.logprobs().orElseThrow().tokens().orElseThrow()).isEqualTo(want.pieces());
        assertThat(floats(choice.logprobs().orElseThrow().tokenLogprobs().orElseThrow())).isEqualTo(want.logprobs());
        assertUsage(c.usage().orElseThrow(), want);
        assertThat(c.model()).isEqualTo(served.name());
    }

    @Test
    void shouldCutTheCompletionAtAStopStringWhenStreamingAndNot() {
        Reference want = textReference();
        // A stop string from the middle of the greedy text: the output must end right before it.
        String text = want.text();
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        String expected = text.substring(0, text.indexOf(stop));
        Completion whole = openai.completions().create(completion().stop(stop).build());
        assertThat(whole.choices().get(0).text()).isEqualTo(expected);
        assertThat(whole.choices().get(0).finishReason().asString()).isEqualTo("stop");
        StringBuilder streamed = new StringBuilder();
        List<String> finish = new ArrayList<>();
        try (StreamResponse<Completion> s = openai.completions().createStreaming(completion().stop(stop).build())) {
            s.stream().forEach(c -> c.choices().forEach(choice -> {
                streamed.append(choice.text());
                choice._finishReason().asKnown().ifPresent(f -> finish.add(f.asString()));
            }));
        }
        assertThat(streamed.toString()).isEqualTo(expected);
        assertThat(finish).containsExactly("stop");
    }

    @Test
    void shouldStreamAChatCompletionWithTheGrpcChatTokensLogprobsAndUsage() {
        Reference want = chatReference();
        StringBuilder text = new StringBuilder();
        List<String> roles = new ArrayList<>();
        List<ChatCompletionTokenLogprob> logprobs = new ArrayList<>();
        List<String> finish = new ArrayList<>();
        List<CompletionUsage> usage = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(chat()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(c -> {
                c.usage().ifPresent(usage::add);
                for (ChatCompletionChunk.Choice choice : c.choices()) {
                    choice.delta().role().ifPresent(r -> roles.add(r.asString()));
                    choice.delta().content().ifPresent(text::append);
                    choice.finishReason().ifPresent(f -> finish.add(f.asString()));
                    choice.logprobs().flatMap(ChatCompletionChunk.Choice.Logprobs::content)
                            .ifPresent(logprobs::addAll);
                }
            });
        }
        assertThat(roles).containsExactly("assistant");
        assertThat(text.toString()).isEqualTo(want.text());
        assertThat(logprobs.stream().map(ChatCompletionTokenLogprob::token).toList()).isEqualTo(want.pieces());
        assertThat(logprobs.stream().map(t -> (float) t.logprob()).toList()).isEqualTo(want.logprobs());
        for (int i = 0; i < logprobs.size(); i++) {
            List<String> top = logprobs.get(i).topLogprobs().stream().map(t -> t.token()).toList();
            assertThat(top).isEqualTo(want.top().get(i).stream()
                    .map(OpenAiClientTest::piece).toList());
        }
        assertThat(finish).containsExactly(want.openAiFinish());
        assertThat(usage).hasSize(1);
        assertUsage(usage.get(0), want);
    }

    @Test
    void shouldReturnAWholeChatCompletionWithTheGrpcChatTokens() {
        Reference want = chatReference();
        ChatCompletion c = openai.chat().completions().create(chat().build());
        ChatCompletion.Choice choice = c.choices().get(0);
        assertThat(choice.message().content()).contains(want.text());
        assertThat(choice.finishReason().asString()).isEqualTo(want.openAiFinish());
        assertThat(choice.logprobs().orElseThrow().content().orElseThrow().stream()
                .map(ChatCompletionTokenLogprob::token).toList()).isEqualTo(want.pieces());
        assertUsage(c.usage().orElseThrow(), want);
    }

    @Test
    void shouldListTheServedModel() {
        assertThat(openai.models().list().data()).extracting(m -> m.id()).containsExactly(served.name());
    }
}
