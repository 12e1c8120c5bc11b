package catena.shard.model;

import catena.shard.kernel.VectorOps;

/** {@code out = x̂ ⊙ w} with {@code x̂ = x / sqrt(mean(x²) + eps)}, over consecutive vectors. */
final class RmsNorm {
    private RmsNorm() {
    }

    /**
     * Normalizes {@code n} vectors of length {@code len} (in place when out == x); {@code w} null
     * means unweighted (Gemma 4's V norm and router input).
     */
    static void apply(float[] x, float[] out, int n, int len, float[] w, float eps) {
        for (int r = 0; r < n; r++) {
            int off = r * len;
            double mean = VectorOps.sumSquares(x, off, len) / len;
            float scale = (float) (1.0 / Math.sqrt(mean + eps));
            if (w == null) {
                for (int i = 0; i < len; i++) {
                    out[off + i] = x[off + i] * scale;
                }
            } else {
                for (int i = 0; i < len; i++) {
                    out[off + i] = x[off + i] * scale * w[i];
                }
            }
        }
    }
}
