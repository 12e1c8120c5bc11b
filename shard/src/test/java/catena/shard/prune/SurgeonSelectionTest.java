package catena.shard.prune;

import static catena.shard.prune.SyntheticLayer.N;
import static catena.shard.prune.SyntheticLayer.OUT;
import static catena.shard.prune.SyntheticLayer.T;
import static catena.shard.prune.SyntheticLayer.gram;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SurgeonSelectionTest {
    private static float[] activations(SplittableRandom rng) {
        return SyntheticLayer.activations(rng, 0.7);
    }

    private static float[] weights(SplittableRandom rng) {
        float[] w = new float[OUT * N];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        return w;
    }

    /** The sub-matrix {@code m[rows][cols]} of a [N][N] matrix. */
    private static double[] block(double[] m, int[] rows, int[] cols) {
        double[] b = new double[rows.length * cols.length];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < cols.length; j++) {
                b[i * cols.length + j] = m[rows[i] * N + cols[j]];
            }
        }
        return b;
    }

    private static int[] removed(int[] kept) {
        int[] r = new int[N - kept.length];
        for (int j = 0, i = 0, k = 0; j < N; j++) {
            if (k < kept.length && kept[k] == j) {
                k++;
            } else {
                r[i++] = j;
            }
        }
        return r;
    }

    @Test
    void shouldRemoveADuplicateAtNoCostWhenTwoNeuronsFireAlike() {
        SplittableRandom rng = new SplittableRandom(3);
        float[] h = activations(rng);
        for (int t = 0; t < T; t++) {
            h[t * N + 1] = h[t * N];
        }
        float[] w = weights(rng);
        for (int o = 0; o < OUT; o++) {
            // the duplicates carry the largest columns, so every activation x weight score keeps both
            w[o * N] *= 4;
            w[o * N + 1] *= 4;
        }
        double[] g = gram(h);
        double[] rms = new double[N];
        for (int j = 0; j < N; j++) {
            rms[j] = Math.sqrt(g[j * N + j] / T);
        }
        int[] byRms = Importance.keepTop(Importance.neuronScores(Importance.Measure.RMS, rms, w, null, OUT, N), N - 2);
        assertThat(byRms).contains(0, 1);

        int[] bySurgeon = SurgeonSelection.keep(w, OUT, N, g, N - 2, 1e-9);
        assertThat(bySurgeon).hasSize(N - 2);
        // exactly one of the duplicates stays
        assertThat(java.util.Arrays.stream(bySurgeon).filter(j -> j <= 1).count()).isEqualTo(1);
        // neuron 0 alone reproduces 0 + 1 after the refit
        double energy = Ridge.energy(w, OUT, N, g);
        double surgeonError = Ridge.error(w, Ridge.refit(w, OUT, N, g, bySurgeon, 1e-9), OUT, N, g, bySurgeon);
        double rmsError = Ridge.error(w, Ridge.refit(w, OUT, N, g, byRms, 1e-9), OUT, N, g, byRms);
        assertThat(surgeonError).isLessThan(rmsError);
        SurgeonSelection one = SurgeonSelection.start(w, OUT, N, g, 1e-9);
        one.remove(one.cheapest());
        assertThat(one.kept()).containsAnyOf(0, 1).hasSize(N - 1);
        assertThat(one.cost()).isLessThan(1e-6 * energy);
    }

    @Test
    void shouldEqualAFreshInverseWhenDowndatedAfterRemovals() {
        SplittableRandom rng = new SplittableRandom(5);
        double[] g = gram(activations(rng));
        SurgeonSelection s = SurgeonSelection.start(weights(rng), OUT, N, g, 1e-3);
        for (int r = 0; r < 5; r++) {
            s.remove(s.cheapest());
        }
        int[] kept = s.kept();
        int k = kept.length;
        // the fresh inverse of the kept block of G + λI, with the layer's λ
        double lambda = Ridge.lambda(g, N, 1e-3);
        double[] a = block(g, kept, kept);
        for (int i = 0; i < k; i++) {
            a[i * k + i] += lambda;
        }
        double[] fresh = new double[k * k];
        for (int i = 0; i < k; i++) {
            fresh[i * k + i] = 1;
        }
        Ridge.cholesky(a, k);
        Ridge.solve(a, k, fresh, k);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                assertThat(s.inverse(kept[i], kept[j])).isCloseTo(fresh[i * k + j], within(1e-10 * fresh[i * k + i]));
            }
        }
    }

    @Test
    void shouldCostTheSchurComplementOfTheRemovedSetWhenRemovingGreedily() {
        SplittableRandom rng = new SplittableRandom(9);
        double[] g = gram(activations(rng));
        float[] w = weights(rng);
        SurgeonSelection s = SurgeonSelection.start(w, OUT, N, g, 1e-3);
        for (int r = 0; r < 4; r++) {
            s.remove(s.cheapest());
        }
        int[] rem = removed(s.kept());
        int m = rem.length;
        // tr(W_R (H_RR)⁻¹ W_Rᵀ) with H the full inverse of G + λI
        double[] h = SurgeonSelection.inverse(g, N, 1e-3);
        double[] hrr = block(h, rem, rem);
        double[] wr = new double[m * OUT];
        for (int i = 0; i < m; i++) {
            for (int o = 0; o < OUT; o++) {
                wr[i * OUT + o] = w[o * N + rem[i]];
            }
        }
        double[] x = wr.clone();
        Ridge.cholesky(hrr, m);
        Ridge.solve(hrr, m, x, OUT);
        double joint = 0;
        for (int i = 0; i < m * OUT; i++) {
            joint += wr[i] * x[i];
        }
        assertThat(s.cost()).isCloseTo(joint, within(1e-9 * joint));
    }

    @Test
    void shouldCompensateLikeTheRidgeRefitWhenTheRidgeIsNegligible() {
        SplittableRandom rng = new SplittableRandom(13);
        double[] g = gram(activations(rng));
        float[] w = weights(rng);
        SurgeonSelection s = SurgeonSelection.start(w, OUT, N, g, 1e-12);
        for (int r = 0; r < 6; r++) {
            s.remove(s.cheapest());
        }
        int[] kept = s.kept();
        float[] v = Ridge.refit(w, OUT, N, g, kept, 1e-12);
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < kept.length; i++) {
                assertThat(s.weight(o, kept[i])).isCloseTo(v[o * kept.length + i], within(1e-4));
            }
        }
        double error = Ridge.error(w, v, OUT, N, g, kept);
        assertThat(s.cost()).isCloseTo(error, within(1e-5 * error));
    }
}
