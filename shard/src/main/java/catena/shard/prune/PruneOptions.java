package catena.shard.prune;

/**
 * What to prune and how.
 *
 * @param ffnRatio   fraction of each layer's FFN neurons to remove (0: none)
 * @param headRatio  fraction of the query heads of each KV group to remove (0: none)
 * @param dropLayers whole layers to remove
 * @param repair     refit ffn_down / attn_output of pruned layers by ridge least squares
 * @param alpha      relative ridge regularization (λ = alpha · mean diagonal of the kept Gram block)
 * @param multiple   FFN widths are rounded to a multiple of this (32 keeps Q8_0 possible)
 * @param measure    how FFN neurons are scored
 * @param ctx        calibration chunk length in tokens
 * @param sampled    calibration tokens to sample from the teacher, besides the text's ({@link SelfSample})
 * @param seed       seed of that sampling
 * @param sequential FFN repair from the student's own activations with the teacher's layer outputs as
 *                   targets ({@link SequentialRepair}); false: from the teacher's activations, target
 *                   the teacher's FFN output ({@link Ridge#refit})
 * @param repairAttention in the sequential pass, also refit {@code attn_output} of every layer whose
 *                   input the pruning changed (or whose heads are pruned) to the teacher's residual
 *                   after attention ({@link AttentionMoments}); needs {@code repair} and {@code sequential}
 */
public record PruneOptions(double ffnRatio, double headRatio, int dropLayers, boolean repair, double alpha,
                           int multiple, Importance.Measure measure, int ctx, int sampled,
                           long seed, boolean sequential, boolean repairAttention) {
    public PruneOptions {
        if (repairAttention && !(repair && sequential)) {
            throw new IllegalArgumentException("--repair-attn=on needs --repair with --repair-from student (repair="
                    + repair + ", sequential=" + sequential + ")");
        }
        if (!(ffnRatio >= 0 && ffnRatio < 1)) {
            throw new IllegalArgumentException("--ffn=" + ffnRatio + ", expected within [0, 1)");
        }
        if (!(headRatio >= 0 && headRatio < 1)) {
            throw new IllegalArgumentException("--heads=" + headRatio + ", expected within [0, 1)");
        }
        if (dropLayers < 0) {
            throw new IllegalArgumentException("--layers=" + dropLayers + ", expected 0 or more");
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("--ridge=" + alpha + ", expected > 0");
        }
        if (sampled < 0) {
            throw new IllegalArgumentException("--sample=" + sampled + ", expected 0 or more tokens");
        }
        if (multiple < 1) {
            throw new IllegalArgumentException("--multiple=" + multiple + ", expected at least 1");
        }
    }
}
