package catena.shard.prune;

import java.util.SplittableRandom;

/** A small random layer for the least-squares tests: T calibration rows of N inputs feeding OUT outputs. */
final class SyntheticLayer {
    static final int T = 400;
    static final int N = 12;
    static final int OUT = 5;

    private SyntheticLayer() {
    }

    /**
     * Random activations [T][N] with correlated columns (as FFN activations are): column j carries
     * {@code coupling * (j % 3)} times a component common to the row.
     */
    static float[] activations(SplittableRandom rng, double coupling) {
        float[] h = new float[T * N];
        for (int t = 0; t < T; t++) {
            double common = rng.nextGaussian();
            for (int j = 0; j < N; j++) {
                h[t * N + j] = (float) (rng.nextGaussian() + coupling * common * (j % 3));
            }
        }
        return h;
    }

    /** {@code Σ_t h_t h_tᵀ}: [N][N]. */
    static double[] gram(float[] h) {
        double[] g = new double[N * N];
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < N; j++) {
                    g[i * N + j] += (double) h[t * N + i] * h[t * N + j];
                }
            }
        }
        return g;
    }
}
