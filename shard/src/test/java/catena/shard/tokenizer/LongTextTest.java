package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Long inputs stay fast (the merge loop is a priority queue, not a rescan per merge) and still
 * round-trip. The bound is loose on purpose (shared 2-core machine); a quadratic merge loop on
 * 200k characters takes far longer than it.
 */
class LongTextTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gemma3-f32.gguf", "tiny-gemma4-f32.gguf", "stories260K-f32.gguf"})
    void twoHundredThousandCharactersEncodeQuickly(String model) {
        Tokenizer t = TokenizerFixtures.tokenizer(model);
        String text = sample(200_000);
        t.encode(sample(10_000), true, true); // warm-up
        long start = System.nanoTime();
        int[] ids = t.encode(text, true, true);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(ms).as("ms to encode 200k characters").isLessThan(10_000);
        assertThat(t.decode(ids)).isEqualTo(text);
    }

    /** Words, spaces without newlines for long stretches (one long fragment), some non-ASCII. */
    static String sample(int length) {
        String[] words = {"the", "little", "girl", "named", "Lily", "café", "日本", "and", "   ", "park", "😀", ","};
        Random r = new Random(42);
        StringBuilder sb = new StringBuilder(length + 16);
        while (sb.length() < length) {
            sb.append(words[r.nextInt(words.length)]).append(' ');
            if (r.nextInt(400) == 0) {
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
