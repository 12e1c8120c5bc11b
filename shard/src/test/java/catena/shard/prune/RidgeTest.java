package catena.shard.prune;

import static catena.shard.prune.SyntheticLayer.N;
import static catena.shard.prune.SyntheticLayer.OUT;
import static catena.shard.prune.SyntheticLayer.T;
import static catena.shard.prune.SyntheticLayer.gram;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RidgeTest {
    private static float[] activations(SplittableRandom rng) {
        return SyntheticLayer.activations(rng, 0.5);
    }

    /** Σ_t ‖W h_t − V h_{S,t}‖², computed row by row from the activations. */
    private static double directError(float[] w, float[] v, float[] h, int[] keep) {
        double e = 0;
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < OUT; o++) {
                double y = 0;
                for (int j = 0; j < N; j++) {
                    y += (double) w[o * N + j] * h[t * N + j];
                }
                for (int i = 0; i < keep.length; i++) {
                    y -= (double) v[o * keep.length + i] * h[t * N + keep[i]];
                }
                e += y * y;
            }
        }
        return e;
    }

    @Test
    void shouldRecoverTheProjectionWhenTheTeacherUsesOnlyKeptInputs() {
        SplittableRandom rng = new SplittableRandom(7);
        float[] h = activations(rng);
        int[] keep = {0, 2, 3, 7, 11};
        float[] w = new float[OUT * N];
        for (int o = 0; o < OUT; o++) {
            for (int j : keep) {
                w[o * N + j] = (float) rng.nextGaussian();
            }
        }
        float[] v = Ridge.refit(w, OUT, N, gram(h), keep, 1e-9);
        assertThat(v).containsExactly(Ridge.columns(w, OUT, N, keep), within(1e-4f));
    }

    @Test
    void shouldLowerTheCalibrationErrorWhenRefittedInsteadOfSliced() {
        SplittableRandom rng = new SplittableRandom(11);
        float[] h = activations(rng);
        float[] w = new float[OUT * N];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        int[] keep = {1, 2, 4, 5, 8, 9, 10};
        double[] g = gram(h);
        float[] slice = Ridge.columns(w, OUT, N, keep);
        float[] refit = Ridge.refit(w, OUT, N, g, keep, 1e-3);
        double before = directError(w, slice, h, keep);
        double after = directError(w, refit, h, keep);
        assertThat(after).isLessThan(0.8 * before);
        // the Gram-only formula agrees with the row-by-row sum
        assertThat(Ridge.error(w, refit, OUT, N, g, keep)).isCloseTo(after, within(1e-6 * before));
        assertThat(Ridge.error(w, slice, OUT, N, g, keep)).isCloseTo(before, within(1e-6 * before));
    }

    @Test
    void shouldSolveTheNormalEquationsWhenGivenAnSpdMatrix() {
        double[] a = {4, 2, 0.6, 2, 5, 1, 0.6, 1, 3};
        double[] x = {1, -2, 0.5};
        double[] b = new double[3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                b[i] += a[i * 3 + j] * x[j];
            }
        }
        float[] v = Ridge.solve(a.clone(), 3, b, 1, 0);
        assertThat(v).containsExactly(new float[] {1, -2, 0.5f}, within(1e-6f));
    }
}
