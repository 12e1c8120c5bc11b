package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.gguf.GgufMetadata;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Gemma chat formats (GEMMA_SPEC.md §11) and the choice of format from the vocabulary. */
class ChatTemplateTest {
    private static final ChatTemplate GEMMA = new GemmaTurnTemplate();
    private static final ChatTemplate GEMMA4 = new Gemma4TurnTemplate(false);

    @Test
    void familyComesFromTheVocabulary() {
        for (String m : List.of("tiny-gemma-f32.gguf", "tiny-gemma2-f32.gguf", "tiny-gemma3-f32.gguf")) {
            assertThat(ChatTemplate.forModel(TokenizerFixtures.metadata(m))).as(m).isInstanceOf(GemmaTurnTemplate.class);
        }
        for (String m : List.of("tiny-gemma4-f32.gguf", "tiny-gemma4-ple-f32.gguf", "tiny-gemma4-moe-f32.gguf")) {
            assertThat(ChatTemplate.forModel(TokenizerFixtures.metadata(m))).as(m).isInstanceOf(Gemma4TurnTemplate.class);
        }
        assertThat(ChatTemplate.forModel(TokenizerFixtures.metadata("stories260K-f32.gguf")))
                .isInstanceOf(PlainTextTemplate.class);
    }

    @Test
    void gemmaFoldsSystemIntoFirstUserTurnAndNamesAssistantModel() {
        String text = GEMMA.render(List.of(
                new ChatMessage("system", " You are terse. "),
                new ChatMessage("user", "Hi\n"),
                new ChatMessage("assistant", "Hello."),
                new ChatMessage("user", "Bye")), true);
        assertThat(text).isEqualTo("<start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n"
                + "<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nBye<end_of_turn>\n"
                + "<start_of_turn>model\n");
        assertThat(GEMMA.render(List.of(new ChatMessage("user", "Hi")), false))
                .isEqualTo("<start_of_turn>user\nHi<end_of_turn>\n");
    }

    @Test
    void gemmaKeepsASystemMessageThatNoUserTurnFollows() {
        assertThat(GEMMA.render(List.of(new ChatMessage("system", "Be brief.")), true))
                .isEqualTo("<start_of_turn>user\nBe brief.<end_of_turn>\n<start_of_turn>model\n");
    }

    @Test
    void gemma4HasASystemTurnAndStripsEarlierThoughts() {
        String text = GEMMA4.render(List.of(
                new ChatMessage("system", "You are terse."),
                new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "<|channel>thought\nplan<channel|>Hello."),
                new ChatMessage("user", "Bye")), true);
        assertThat(text).isEqualTo("<|turn>system\nYou are terse.<turn|>\n"
                + "<|turn>user\nHi<turn|>\n"
                + "<|turn>model\nHello.<turn|>\n"
                + "<|turn>user\nBye<turn|>\n"
                + "<|turn>model\n");
    }

    @Test
    void gemma4SystemTurnIsOnlyTheFirstMessage() {
        String text = GEMMA4.render(List.of(
                new ChatMessage("developer", " Rules. "),
                new ChatMessage("user", "Hi"),
                new ChatMessage("system", "Later note")), false);
        assertThat(text).isEqualTo("<|turn>system\nRules.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>system\nLater note<turn|>\n");
    }

    @Test
    void gemma4StripThinkingFollowsTheBundledTemplate() {
        assertThat(Gemma4TurnTemplate.stripThinking("A<|channel>x<channel|>B<|channel>y<channel|> C ")).isEqualTo("AB C");
        assertThat(Gemma4TurnTemplate.stripThinking("Answer<|channel>unfinished")).isEqualTo("Answer");
        assertThat(Gemma4TurnTemplate.stripThinking("plain")).isEqualTo("plain");
    }

    @Test
    void gemma4EmptyThoughtBlockOnlyWithChannelTokens() {
        ChatTemplate withTokens = ChatTemplate.forModel(metadata("gemma4", null, "<|turn>", "<turn|>", "<|channel>", "<channel|>"));
        assertThat(withTokens.render(List.of(new ChatMessage("user", "Hello")), true))
                .isEqualTo("<|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
        ChatTemplate fileSaysNo = ChatTemplate.forModel(metadata("gemma4", "{{ '<|turn>model\\n' }}",
                "<|turn>", "<turn|>", "<|channel>", "<channel|>"));
        assertThat(fileSaysNo.render(List.of(new ChatMessage("user", "Hello")), true)).endsWith("<|turn>model\n");
        ChatTemplate tiny = ChatTemplate.forModel(TokenizerFixtures.metadata("tiny-gemma4-f32.gguf"));
        assertThat(tiny.render(List.of(new ChatMessage("user", "Hello")), true)).endsWith("<|turn>model\n");
    }

    private static GgufMetadata metadata(String model, String chatTemplate, String... tokens) {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.ofString(model));
        kv.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufValueType.STRING, tokens));
        if (chatTemplate != null) {
            kv.put("tokenizer.chat_template", GgufValue.ofString(chatTemplate));
        }
        return new GgufMetadata(kv);
    }

    @Test
    void renderedTextEncodesWithOneBosAndControlTokens() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        int[] ids = t.encode(GEMMA.render(List.of(new ChatMessage("user", "Hi")), true), true, true);
        assertThat(ids[0]).isEqualTo(2);
        assertThat(ids[1]).isEqualTo(5);
        assertThat(ids).containsOnlyOnce(2);
        assertThat(ids[ids.length - 1]).isEqualTo(7); // "\n" after "model"
        Tokenizer t4 = TokenizerFixtures.tokenizer("tiny-gemma4-f32.gguf");
        int[] ids4 = t4.encode(GEMMA4.render(List.of(new ChatMessage("user", "Hi")), true), true, true);
        assertThat(ids4[0]).isEqualTo(2);
        assertThat(ids4[1]).isEqualTo(5); // <|turn>
        assertThat(ids4).containsOnlyOnce(2).contains(6); // <turn|>
    }

    @Test
    void plainTextTemplateJoinsContents() {
        ChatTemplate plain = new PlainTextTemplate();
        assertThat(plain.render(List.of(new ChatMessage("system", "A."), new ChatMessage("user", "Once upon")), true))
                .isEqualTo("A.\n\nOnce upon");
    }

    @Test
    void unknownRolesAreRejected() {
        assertThatThrownBy(() -> GEMMA.render(List.of(new ChatMessage("tool", "x")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("role='tool'");
        assertThatThrownBy(() -> GEMMA4.render(List.of(new ChatMessage("user", null)), true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
