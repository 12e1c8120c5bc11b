package catena.shard.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {
    static final int[] NONE = new int[0];

    static SamplingParams params(float t, int k, float p, float minP, long seed) {
        return new SamplingParams(t, k, p, minP, 1f, 64, seed);
    }

    /** Tokens a sampler can return for these logits, over many steps. */
    static Set<Integer> support(float[] logits, SamplingParams p) {
        Set<Integer> seen = new HashSet<>();
        for (int step = 0; step < 4000; step++) {
            seen.add(Sampler.sample(logits, 0, logits.length, p, step, NONE, 0));
        }
        return seen;
    }

    @Test
    void greedyTakesTheLowestIdAmongTies() {
        float[] l = {1f, 3f, 2f, 3f};
        assertThat(Sampler.sample(l, 0, 4, SamplingParams.GREEDY, 0, NONE, 0)).isEqualTo(1);
    }

    @Test
    void greedyHonoursTheOffset() {
        float[] l = {9f, 9f, 0f, 1f, 5f};
        assertThat(Sampler.sample(l, 2, 3, SamplingParams.GREEDY, 0, NONE, 0)).isEqualTo(2);
    }

    @Test
    void topKKeepsExactlyTheKBest() {
        float[] l = {0f, 0.5f, 0.2f, 0.4f, 0.1f};
        assertThat(support(l, params(1f, 2, 1f, 0f, 1))).containsExactlyInAnyOrder(1, 3);
    }

    @Test
    void topPKeepsTheShortestPrefixReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05: p=0.79 keeps {0,1} (0.5+0.3 reaches it), p=0.81 needs token 2.
        float[] l = logitsOf(0.5, 0.3, 0.15, 0.05);
        assertThat(support(l, params(1f, 0, 0.79f, 0f, 2))).containsExactlyInAnyOrder(0, 1);
        assertThat(support(l, params(1f, 0, 0.81f, 0f, 2))).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void minPDropsTokensLessThanMinPTimesTheBest() {
        float[] l = logitsOf(0.5, 0.3, 0.15, 0.05); // ratios to best: 1, 0.6, 0.3, 0.1
        assertThat(support(l, params(1f, 0, 1f, 0.25f, 3))).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(support(l, params(1f, 0, 1f, 0.65f, 3))).containsExactly(0);
    }

    @Test
    void drawsFollowTheSoftmaxAtTheTemperature() {
        float[] l = {1.0f, 0.0f, -1.0f, 0.5f};
        float t = 0.7f;
        double[] prob = new double[4];
        double z = 0;
        for (int i = 0; i < 4; i++) {
            prob[i] = Math.exp(l[i] / t);
            z += prob[i];
        }
        int n = 20000;
        int[] count = new int[4];
        for (int step = 0; step < n; step++) {
            count[Sampler.sample(l, 0, 4, params(t, 0, 1f, 0f, 99), step, NONE, 0)]++;
        }
        double chi2 = 0;
        for (int i = 0; i < 4; i++) {
            double e = n * prob[i] / z;
            chi2 += (count[i] - e) * (count[i] - e) / e;
        }
        // 3 degrees of freedom: P(chi2 > 16.27) = 0.001.
        assertThat(chi2).isLessThan(16.27);
    }

    @Test
    void theDrawIsAFunctionOfSeedAndStepOnly() {
        float[] l = new float[1000];
        Random r = new Random(5);
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) r.nextGaussian();
        }
        SamplingParams p = params(1f, 0, 0.95f, 0.01f, 1234);
        int[] forward = new int[50];
        for (int step = 0; step < 50; step++) {
            forward[step] = Sampler.sample(l, 0, l.length, p, step, NONE, 0);
        }
        for (int step = 49; step >= 0; step--) {
            assertThat(Sampler.sample(l, 0, l.length, p, step, NONE, 0)).isEqualTo(forward[step]);
        }
        Set<Integer> other = new HashSet<>();
        for (int step = 0; step < 50; step++) {
            other.add(Sampler.sample(l, 0, l.length, params(1f, 0, 0.95f, 0.01f, 4321), step, NONE, 0));
        }
        assertThat(new HashSet<>(java.util.Arrays.stream(forward).boxed().toList())).isNotEqualTo(other);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce() {
        float[] l = {2.0f, 1.9f, -1.0f, -1.1f};
        int[] history = {0, 0, 0, 2};
        SamplingParams pen = new SamplingParams(0f, 0, 1f, 0f, 1.5f, 64, 0);
        // token 0: 2.0/1.5 = 1.33 < 1.9, so greedy moves to token 1; the repeats of 0 count once.
        assertThat(Sampler.sample(l, 0, 4, pen, 0, history, history.length)).isEqualTo(1);
        // With only token 2 in the window, token 3 (-1.1) beats token 2 (-1.5) among the negatives.
        float[] neg = {-5f, -5f, -1.0f, -1.1f};
        assertThat(Sampler.sample(neg, 0, 4, pen, 0, new int[] {2}, 1)).isEqualTo(3);
        // The window is the last N tokens: token 0 outside it is not penalized.
        SamplingParams window1 = new SamplingParams(0f, 0, 1f, 0f, 1.5f, 1, 0);
        assertThat(Sampler.sample(l, 0, 4, window1, 0, history, history.length)).isEqualTo(0);
        assertThat(l).containsExactly(2.0f, 1.9f, -1.0f, -1.1f);
    }

    @Test
    void largeVocabularyWithTopPOnly() {
        float[] l = new float[262144];
        Random r = new Random(11);
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) r.nextGaussian() * 3;
        }
        float[] before = l.clone();
        int t = Sampler.sample(l, 0, l.length, params(0.8f, 0, 0.9f, 0f, 7), 3, NONE, 0);
        assertThat(t).isBetween(0, l.length - 1);
        assertThat(l).isEqualTo(before);
    }

    @Test
    void invalidParametersAreRefusedWithTheirName() {
        assertThatThrownBy(() -> params(Float.NaN, 0, 1f, 0f, 0).validate()).hasMessageContaining("temperature");
        assertThatThrownBy(() -> params(-1f, 0, 1f, 0f, 0).validate()).hasMessageContaining("temperature");
        assertThatThrownBy(() -> params(1f, -1, 1f, 0f, 0).validate()).hasMessageContaining("top_k");
        assertThatThrownBy(() -> params(1f, 0, 0f, 0f, 0).validate()).hasMessageContaining("top_p");
        assertThatThrownBy(() -> params(1f, 0, 1.5f, 0f, 0).validate()).hasMessageContaining("top_p");
        assertThatThrownBy(() -> params(1f, 0, 1f, -0.1f, 0).validate()).hasMessageContaining("min_p");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 1f, 0f, 0f, 64, 0).validate())
                .hasMessageContaining("repetition_penalty");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 1f, 0f, Float.NaN, 64, 0).validate())
                .hasMessageContaining("repetition_penalty");
        params(0.7f, 40, 0.95f, 0.05f, 0).validate();
    }

    static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }
}
