package catena.gateway.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.gateway.ToyTokenizer;
import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationRequest;
import catena.shard.tokenizer.ChatMessage;
import catena.shard.tokenizer.ChatTemplate;
import catena.worker.engine.ModelFacts;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Defaults and mappings of OpenAI request bodies to the domain request (the 400s: OpenAiHttpTest). */
class RequestParserTest {
    private static final int CONTEXT = 512;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<List<ChatMessage>> rendered = new ArrayList<>();
    /** A template that records what it renders and writes "role:content" lines. */
    private final ChatTemplate template = (messages, generation) -> {
        rendered.add(messages);
        StringBuilder sb = new StringBuilder();
        messages.forEach(m -> sb.append(m.role()).append(':').append(m.content()).append('\n'));
        return sb.toString();
    };
    private final RequestParser parser = new RequestParser(ServedModel.of(Path.of("toy.gguf"),
            new ModelFacts("toy", 4, 4, 97, CONTEXT), new ToyTokenizer(97), template), () -> 42L);

    private ApiRequest completion(String fields) throws Exception {
        return parser.parse(ApiRequest.Endpoint.COMPLETION, JSON.readTree("{\"model\":\"toy.gguf\"," + fields + "}"));
    }

    private ApiRequest chat(String fields) throws Exception {
        return parser.parse(ApiRequest.Endpoint.CHAT, JSON.readTree("{\"model\":\"toy.gguf\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + fields + "}"));
    }

    @Test
    void shouldSampleAtTemperatureOneWithADrawnSeedWhenTheRequestSetsNeither() throws Exception {
        GenerationRequest g = completion("\"prompt\":\"ab\"").generation();
        assertThat(g.sampling().temperature()).isEqualTo(1f);
        assertThat(g.sampling().topP()).isEqualTo(1f);
        assertThat(g.sampling().seed()).isEqualTo(42L);
        assertThat(g.sampling().repetitionPenalty()).isEqualTo(1f);
        assertThat(g.logprobs()).isEqualTo(GenerationRequest.NO_LOGPROBS);
        assertThat(g.stop()).isEmpty();
    }

    @Test
    void shouldCarryEverySamplingFieldWhenSet() throws Exception {
        var s = completion("\"prompt\":\"ab\",\"temperature\":0.5,\"top_p\":0.9,\"top_k\":7,\"min_p\":0.05,"
                + "\"repetition_penalty\":1.1,\"seed\":-3,\"user\":\"u\",\"presence_penalty\":0").generation()
                .sampling();
        assertThat(s.temperature()).isEqualTo(0.5f);
        assertThat(s.topP()).isEqualTo(0.9f);
        assertThat(s.topK()).isEqualTo(7);
        assertThat(s.minP()).isEqualTo(0.05f);
        assertThat(s.repetitionPenalty()).isEqualTo(1.1f);
        assertThat(s.seed()).isEqualTo(-3L);
    }

    @Test
    void shouldEncodeTextWithBosAndTakeTokenIdsAsGivenWhenPromptIsABatchOfOne() throws Exception {
        assertThat(completion("\"prompt\":\"ab\"").generation().prompt()).containsExactly(0, 'a' - ' ' + 2,
                'b' - ' ' + 2);
        assertThat(completion("\"prompt\":[\"ab\"]").generation().prompt()).hasSize(3);
        assertThat(completion("\"prompt\":[5,6,7]").generation().prompt()).containsExactly(5, 6, 7);
        assertThat(completion("\"prompt\":[[5,6]]").generation().prompt()).containsExactly(5, 6);
    }

    @Test
    void shouldPreferMaxCompletionTokensAndCapTheDefaultToTheContext() throws Exception {
        assertThat(completion("\"prompt\":[2],\"max_tokens\":9,\"max_completion_tokens\":5").generation()
                .maxTokens()).isEqualTo(5);
        assertThat(completion("\"prompt\":[2],\"max_tokens\":9").generation().maxTokens()).isEqualTo(9);
        assertThat(completion("\"prompt\":[2]").generation().maxTokens()).isEqualTo(RequestParser.DEFAULT_MAX_TOKENS);
        String longPrompt = "\"prompt\":" + java.util.Arrays.toString(new int[400]).replace(" ", "");
        assertThat(completion(longPrompt).generation().maxTokens()).isEqualTo(CONTEXT - 400);
    }

    @Test
    void shouldTakeOneStopStringOrSeveral() throws Exception {
        assertThat(completion("\"prompt\":[2],\"stop\":\"x\"").generation().stop()).containsExactly("x");
        assertThat(completion("\"prompt\":[2],\"stop\":[\"x\",\"yz\"]").generation().stop()).containsExactly("x", "yz");
        assertThat(completion("\"prompt\":[2],\"stop\":null").generation().stop()).isEmpty();
    }

    @Test
    void shouldStreamWithUsageOnlyWhenAsked() throws Exception {
        ApiRequest r = completion("\"prompt\":[2],\"stream\":true,\"stream_options\":{\"include_usage\":true}");
        assertThat(r.stream()).isTrue();
        assertThat(r.includeUsage()).isTrue();
        assertThat(completion("\"prompt\":[2],\"stream\":true").includeUsage()).isFalse();
        assertThat(completion("\"prompt\":[2]").stream()).isFalse();
    }

    @Test
    void shouldMapChatLogprobsAndCompletionLogprobsToAlternativesPerToken() throws Exception {
        assertThat(chat("").generation().logprobs()).isEqualTo(GenerationRequest.NO_LOGPROBS);
        assertThat(chat(",\"logprobs\":true").generation().logprobs()).isZero();
        assertThat(chat(",\"logprobs\":true,\"top_logprobs\":3").generation().logprobs()).isEqualTo(3);
        assertThat(chat(",\"logprobs\":false").logprobs()).isFalse();
        assertThat(completion("\"prompt\":[2],\"logprobs\":0").generation().logprobs()).isZero();
        assertThat(completion("\"prompt\":[2],\"logprobs\":5").generation().logprobs()).isEqualTo(5);
    }

    @Test
    void shouldRenderMessagesWithTheTemplateJoiningTextParts() throws Exception {
        GenerationRequest g = parser.parse(ApiRequest.Endpoint.CHAT, JSON.readTree("{\"model\":\"toy.gguf\","
                + "\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}]}")).generation();
        assertThat(rendered).containsExactly(List.of(new ChatMessage("system", "s"), new ChatMessage("user", "ab")));
        assertThat(g.prompt()).isEqualTo(new ToyTokenizer(97).encode("system:s\nuser:ab\n", true, true));
    }

    @Test
    void shouldRefuseAnImagePartNamingItsIndex() {
        assertThatThrownBy(() -> parser.parse(ApiRequest.Endpoint.CHAT, JSON.readTree("{\"model\":\"toy.gguf\","
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}")))
                .isInstanceOf(ApiError.class)
                .hasMessage("messages[0].content[0]={\"type\":\"image_url\",\"image_url\":{}}, expected a text part"
                        + " {\"type\":\"text\",\"text\":...} (this model reads text only)");
    }
}
