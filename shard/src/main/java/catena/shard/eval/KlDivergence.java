package catena.shard.eval;

/** KL divergence of one next-token prediction from a base's, as llama.cpp's {@code --kl-divergence} defines it. */
public final class KlDivergence {
    private KlDivergence() {
    }

    /**
     * {@code KL(P_base || Q) = sum_i p_base(i) * (log p_base(i) - log q(i))} over a row of base
     * log-probabilities {@code baseLogProbs[baseOff ..]} and model logits {@code logits[off ..]}, both
     * {@code n} wide. Zero when the two distributions are the same; never negative except for rounding.
     */
    public static double of(float[] baseLogProbs, int baseOff, float[] logits, int off, int n) {
        double lse = LogSoftmax.logSumExp(logits, off, n);
        double kld = 0;
        for (int i = 0; i < n; i++) {
            double lb = baseLogProbs[baseOff + i];
            if (lb == Double.NEGATIVE_INFINITY) {
                continue; // p = 0 contributes nothing (0 * log 0 = 0)
            }
            kld += Math.exp(lb) * (lb - (logits[off + i] - lse));
        }
        return kld;
    }
}
