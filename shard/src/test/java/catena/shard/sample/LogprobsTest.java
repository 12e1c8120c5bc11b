package catena.shard.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LogprobsTest {

    @Test
    void shouldMatchABruteForceLogSoftmaxAndSortWhenLogitsAreRandom() {
        Random rnd = new Random(42);
        int vocab = 1000;
        float[] logits = new float[vocab + 7];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) rnd.nextGaussian() * 4;
        }
        int off = 7;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        double norm = max + Math.log(sum);
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(logits[off + b], logits[off + a]));
        int[] ids = new int[5];
        float[] lps = new float[5];
        float lp = Logprobs.top(logits, off, vocab, 123, ids, lps);
        assertThat(lp).isCloseTo((float) (logits[off + 123] - norm), within(1e-5f));
        for (int k = 0; k < 5; k++) {
            assertThat(ids[k]).isEqualTo(order[k]);
            assertThat(lps[k]).isCloseTo((float) (logits[off + order[k]] - norm), within(1e-5f));
        }
    }

    @Test
    void shouldPutLowerIdsFirstWhenLogitsTie() {
        float[] logits = {1f, 3f, 3f, 0f, 3f};
        int[] ids = new int[3];
        float[] lps = new float[3];
        Logprobs.top(logits, 0, 5, 0, ids, lps);
        assertThat(ids).containsExactly(1, 2, 4);
        assertThat(lps[0]).isEqualTo(lps[2]);
    }

    @Test
    void shouldReportOnlyTheChosenTokenWhenNoAlternativesAreAsked() {
        float[] logits = {0f, 0f};
        float lp = Logprobs.top(logits, 0, 2, 1, new int[0], new float[0]);
        assertThat(lp).isCloseTo((float) Math.log(0.5), within(1e-7f));
    }
}
