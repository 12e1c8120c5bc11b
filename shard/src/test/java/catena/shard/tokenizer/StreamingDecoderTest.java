package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streaming detokenization never emits half a character, whatever the token boundaries. */
class StreamingDecoderTest {

    @Test
    void multiByteCharactersSplitOverByteTokensComeOutWhole() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        String text = "日本語 😀👍🏽 café";
        int[] ids = t.encode(text, true, false);
        // The tiny vocabulary has no CJK or emoji pieces: they are spelled with <0xXX> tokens.
        assertThat(ids).contains(9 + 0xE6, 9 + 0x97, 9 + 0xA5, 9 + 0xF0);
        StreamingDecoder d = t.newDecoder();
        List<String> chunks = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String s = d.accept(id);
            chunks.add(s);
            all.append(s);
            assertThat(s).doesNotContain("\uFFFD");
        }
        all.append(d.flush());
        assertThat(all.toString()).isEqualTo(text);
        // "日" is E6 97 A5: the first two byte tokens emit nothing, the third emits the character
        int i = indexOf(ids, 9 + 0xE6);
        assertThat(chunks.get(i)).isEmpty();
        assertThat(chunks.get(i + 1)).isEmpty();
        assertThat(chunks.get(i + 2)).isEqualTo("日");
    }

    @Test
    void gemma4ByteFallbackStreamsTheSame() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma4-f32.gguf");
        String text = "Ελληνικά 🇩🇪\n\n한국어";
        StreamingDecoder d = t.newDecoder();
        StringBuilder all = new StringBuilder();
        for (int id : t.encode(text, true, true)) {
            String s = d.accept(id);
            assertThat(s).doesNotContain("\uFFFD");
            all.append(s);
        }
        assertThat(all.append(d.flush()).toString()).isEqualTo(text);
    }

    @Test
    void incompleteTailIsReplacedOnFlush() {
        Tokenizer t = TokenizerFixtures.tokenizer("tiny-gemma3-f32.gguf");
        StreamingDecoder d = t.newDecoder();
        assertThat(d.accept(9 + 0xF0)).isEmpty();
        assertThat(d.accept(9 + 0x9F)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void completePrefixHoldsBackOnlyUnfinishedSequences() {
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0x61, 0x62))).isEqualTo(2);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0x61, 0xE6))).isEqualTo(1);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0x61, 0xE6, 0x97))).isEqualTo(1);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0x61, 0xE6, 0x97, 0xA5))).isEqualTo(4);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0xF0, 0x9F, 0x98))).isEqualTo(0);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0xF0, 0x9F, 0x98, 0x80))).isEqualTo(4);
        // malformed bytes are not held back (they decode to U+FFFD at once)
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0x80))).isEqualTo(1);
        assertThat(Utf8StreamingDecoder.completePrefix(bytes(0xFF))).isEqualTo(1);
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        throw new AssertionError(v + " not found");
    }
}
