package catena.shard.sample;

import static catena.shard.sample.Fixtures.NO_HISTORY;
import static catena.shard.sample.Fixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Frequencies of many draws (one per step) against the softmax. Bounds are fixed before looking at
 * the data: the chi-square critical value at p = 0.001 for the test's degrees of freedom, so a
 * correct sampler fails about once in a thousand seeds; the seeds are fixed, so the run is repeatable.
 */
class DrawTest {
    @Test
    void shouldFollowTheSoftmaxAtTheTemperatureWhenNoFilterIsSet() {
        float[] l = {1.0f, 0.0f, -1.0f, 0.5f, -3f};
        float t = 0.7f;
        double[] expected = softmax(l, t, new boolean[] {true, true, true, true, true});
        // 4 degrees of freedom: P(chi2 > 18.467) = 0.001.
        assertThat(chiSquare(l, params(t, 0, 1f, 0f, 99), expected, 40_000)).isLessThan(18.467);
    }

    @Test
    void shouldRenormalizeOverTheSurvivorsWhenFiltersAreSet() {
        // top-k 4 drops id 4; min-p 0.2 (at temperature 1) then drops id 2 (e^-2 < 0.2 of e^1).
        float[] l = {1.0f, 0.0f, -1.0f, 0.5f, -3f};
        float t = 1.3f;
        double[] expected = softmax(l, t, new boolean[] {true, true, false, true, false});
        // 2 degrees of freedom among the 3 survivors: P(chi2 > 13.816) = 0.001; dropped ids must never appear.
        assertThat(chiSquare(l, params(t, 4, 1f, 0.2f, 5), expected, 40_000)).isLessThan(13.816);
    }

    @Test
    void shouldDrawUniformNumbersFromTheCounterGenerator() {
        int bins = 100;
        for (long seed : new long[] {0, 1, -1, 42, Long.MIN_VALUE}) {
            int[] count = new int[bins];
            int n = 100_000;
            for (int step = 0; step < n; step++) {
                double u = CounterRng.uniform(seed, step);
                assertThat(u).isGreaterThanOrEqualTo(0).isLessThan(1);
                count[(int) (u * bins)]++;
            }
            double e = (double) n / bins;
            double chi2 = 0;
            for (int c : count) {
                chi2 += (c - e) * (c - e) / e;
            }
            // 99 degrees of freedom: P(chi2 > 148.23) = 0.001.
            assertThat(chi2).as("seed %d", seed).isLessThan(148.23);
        }
    }

    /** Chi-square statistic of draws over steps 0..n-1 against {@code expected}; a zero-probability hit fails. */
    static double chiSquare(float[] l, SamplingParams p, double[] expected, int n) {
        int[] count = new int[l.length];
        Sampler sampler = new Sampler();
        for (int step = 0; step < n; step++) {
            count[sampler.next(l, 0, l.length, p, step, NO_HISTORY, 0)]++;
        }
        double chi2 = 0;
        for (int i = 0; i < l.length; i++) {
            if (expected[i] == 0) {
                assertThat(count[i]).as("draws of filtered-out id %d", i).isZero();
                continue;
            }
            double e = n * expected[i];
            chi2 += (count[i] - e) * (count[i] - e) / e;
        }
        return chi2;
    }

    static double[] softmax(float[] l, float t, boolean[] keep) {
        double[] p = new double[l.length];
        double z = 0;
        for (int i = 0; i < l.length; i++) {
            p[i] = keep[i] ? Math.exp(l[i] / t) : 0;
            z += p[i];
        }
        for (int i = 0; i < l.length; i++) {
            p[i] /= z;
        }
        return p;
    }
}
