package catena.shard.sample;

/**
 * Log-probabilities of a position's raw logits (log-softmax at temperature 1, before any penalty
 * or filter): what the model assigns, independent of the sampler's settings. Computed in double
 * with {@link StrictMath} so every replica reports the same bits.
 */
public final class Logprobs {
    private Logprobs() {
    }

    /** The log-normalizer {@code log(sum(exp(l)))} of {@code logits[off .. off+vocab)}. */
    public static double logSumExp(float[] logits, int off, int vocab) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += StrictMath.exp((double) logits[off + i] - max);
        }
        return max + StrictMath.log(sum);
    }

    /**
     * Fills {@code topIds}/{@code topLogprobs} (both of length n, n may be 0) with the n most likely
     * ids, most likely first (lower id first on ties), and returns the log-probability of
     * {@code token}.
     */
    public static float top(float[] logits, int off, int vocab, int token, int[] topIds, float[] topLogprobs) {
        int n = topIds.length;
        if (topLogprobs.length != n) {
            throw new IllegalArgumentException("topIds has " + n + " entries, topLogprobs " + topLogprobs.length);
        }
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token=" + token + ", expected 0.." + (vocab - 1));
        }
        double norm = logSumExp(logits, off, vocab);
        // Insertion into a sorted list of n: n <= 20, so this beats a heap.
        int filled = 0;
        for (int i = 0; i < vocab && n > 0; i++) {
            float v = logits[off + i];
            if (filled == n && !(v > logits[off + topIds[n - 1]])) {
                continue;
            }
            int at = Math.min(filled, n - 1);
            while (at > 0 && v > logits[off + topIds[at - 1]]) {
                topIds[at] = topIds[at - 1];
                at--;
            }
            topIds[at] = i;
            filled = Math.min(n, filled + 1);
        }
        for (int k = 0; k < filled; k++) {
            topLogprobs[k] = (float) (logits[off + topIds[k]] - norm);
        }
        return (float) (logits[off + token] - norm);
    }
}
