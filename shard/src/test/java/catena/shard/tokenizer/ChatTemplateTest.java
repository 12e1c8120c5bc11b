package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Gemma chat formats (GEMMA_SPEC.md §11) and the choice of format from the vocabulary. */
class ChatTemplateTest {
    private static final ChatTemplate GEMMA = new GemmaTurnTemplate();
    private static final ChatTemplate GEMMA4 = new Gemma4TurnTemplate();

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
