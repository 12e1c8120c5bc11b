package catena.shard.eval;

/**
 * Log-softmax over one row of logits, computed as llama.cpp's perplexity does: the maximum in float,
 * the sum of {@code exp(l - max)} accumulated in double. Keeping its order of operations keeps the
 * numbers comparable to the last printed digit.
 */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /** {@code log(sum_i exp(l_i - max)) + max}: the normalizer of the row {@code logits[off .. off+n)}. */
    public static double logSumExp(float[] logits, int off, int n) {
        float max = logits[off];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (float) Math.exp(logits[off + i] - max);
        }
        return max + Math.log(sum);
    }

    /** Negative log-likelihood of {@code token} under the row: {@code -(l[token] - max - log(sum))}. */
    public static double nll(float[] logits, int off, int n, int token) {
        float max = logits[off];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (float) Math.exp(logits[off + i] - max);
        }
        return -(logits[off + token] - max - Math.log(sum));
    }

    /** The row's log-probabilities into {@code out[outOff .. outOff+n)}. */
    public static void logProbs(float[] logits, int off, int n, float[] out, int outOff) {
        double lse = logSumExp(logits, off, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (float) (logits[off + i] - lse);
        }
    }

    /** Index of the largest value of {@code a[off .. off+n)} (the lowest index on ties). */
    public static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[off + i] > a[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
