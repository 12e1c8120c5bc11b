package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Detokenizing: token pieces, whole sequences, and round trips through encode. */
class DecodeTest {
    static final List<String> TEXTS = List.of(
            "Hello world",
            " leading space and  double  spaces   and trailing ",
            "Unicode: café naïve résumé Straße Ελληνικά Русский 日本語 中文 한국어",
            "Emojis: 😀👍🏽 ❤️ 🇩🇪 👨‍👩‍👧",
            "Whitespace:\ttab\nnewline\n\ndouble newline\r\ncrlf    four spaces\n\n\n",
            "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<|turn>model\n</s>",
            "");

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gemma3-f32.gguf", "tiny-gemma4-f32.gguf", "tiny-llama-f32.gguf", "stories260K-f32.gguf"})
    void decodeInvertsEncodeForPlainText(String model) {
        Tokenizer t = TokenizerFixtures.tokenizer(model);
        for (String text : TEXTS) {
            // parseSpecial off: special-looking text is ordinary text and must come back verbatim
            assertThat(t.decode(t.encode(text, true, false))).as(model + " " + text).isEqualTo(text);
            assertThat(t.decode(t.encode(text, false, false))).as(model + " no BOS " + text).isEqualTo(text);
        }
    }

    @Test
    void controlTokensPrintNothingAndPiecesUnescapeSpaces() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        assertThat(t.tokenText(5)).isEqualTo("<start_of_turn>");
        assertThat(t.tokenBytes(5)).isEmpty();
        assertThat(t.tokenBytes(t.bos())).isEmpty();
        assertThat(new String(t.tokenBytes(270), StandardCharsets.UTF_8)).isEqualTo(" the"); // "▁the"
        assertThat(t.tokenBytes(9 + 0xE2)).containsExactly((byte) 0xE2); // <0xE2>
        int[] chat = t.encode("<start_of_turn>user\nHi<end_of_turn>\n", true, true);
        assertThat(chat[1]).isEqualTo(5);
        assertThat(t.decode(chat)).isEqualTo("user\nHi\n");
    }

    @Test
    void spacePrefixIsDroppedOnceAtTheStartOfText() {
        Tokenizer t = TokenizerFixtures.tokenizer("stories260K-f32.gguf");
        int[] ids = t.encode("Once upon a time", true, true);
        assertThat(ids).containsExactly(1, 403, 407, 261, 378);
        assertThat(new String(t.tokenBytes(403), StandardCharsets.UTF_8)).isEqualTo(" Once");
        assertThat(t.decode(ids)).isEqualTo("Once upon a time");
        // continuing a text (generation after a prompt): the space is real
        StreamingDecoder continuation = t.newDecoder(false);
        assertThat(continuation.accept(407)).isEqualTo(" upon");
    }

    @Test
    void badIdsAreRejectedWithTheRange() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        assertThatThrownBy(() -> t.decode(new int[] {1024})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id=1024").hasMessageContaining("0 to 1023");
        assertThatThrownBy(() -> t.tokenBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void invalidUtf8DecodesToReplacementCharacter() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        int lone = 9 + 0xE2; // <0xE2>, the first byte of a three-byte character, alone
        int a = t.encode("a", false, false)[0];
        assertThat(t.decode(new int[] {lone, a})).isEqualTo("\uFFFDa");
    }
}
