package catena.shard.prune;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * What to keep, decided from importance scores. An FFN neuron j adds {@code h_j · down[:,j]} to
 * the layer's output, so removing it costs {@code E‖h_j down[:,j]‖² = E[h_j²] · ‖down[:,j]‖²}: the
 * {@link Measure#RMS} score {@code RMS(h_j) · ‖down[:,j]‖} (the default without repair, see
 * {@link #defaultMeasure}) is the root of that squared error when nothing compensates.
 * {@link Measure#OBS} instead counts the error left after the refit ({@link SurgeonSelection}).
 * {@link Measure#ACTIVATION} uses the mean |h_j| and {@link Measure#WEIGHT}
 * ({@code ‖up[j,:]‖ · ‖down[:,j]‖}) ignores how the neuron fires; both are kept for comparison
 * (README: RMS prunes stories260K best without repair). A query head is scored by its
 * mean output norm times the Frobenius norm of its slice of {@code attn_output}. A layer is scored
 * by ShortGPT's block influence {@code 1 − E cos(x_in, x_out)}: the layer that turns the residual
 * stream least matters least.
 */
public final class Importance {
    /** How FFN neurons are scored. */
    public enum Measure {
        /** mean |activation| on the calibration text × the norm of the neuron's down column */
        ACTIVATION,
        /** root mean square activation × the norm of the down column */
        RMS,
        /** norm of the neuron's up row × norm of its down column (no calibration) */
        WEIGHT,
        /**
         * the error left after the least-squares refit of the kept neurons, removed greedily
         * ({@link SurgeonSelection}); a set, not a per-neuron score, so {@link #neuronScores} refuses it
         */
        OBS
    }

    private Importance() {
    }

    /**
     * The FFN measure when none is asked for: {@link Measure#OBS} when the pruned layers are
     * repaired (it picks the neurons whose removal the refit compensates best; chosen on
     * calibration-side validation, see README), {@link Measure#RMS} otherwise (without the refit
     * the surgeon's choice is no better than RMS's).
     */
    public static Measure defaultMeasure(boolean repair) {
        return repair ? Measure.OBS : Measure.RMS;
    }

    /**
     * How many of {@code width} units to keep when pruning the fraction {@code ratio}: {@code width −
     * round(ratio·width)}, then rounded to the nearest multiple of {@code multiple} (at least one
     * multiple, at most the width) so that a matrix with that many columns can stay Q8_0.
     */
    public static int keepCount(int width, double ratio, int multiple) {
        if (!(ratio >= 0 && ratio < 1)) {
            throw new IllegalArgumentException("prune ratio=" + ratio + ", expected within [0, 1)");
        }
        if (multiple < 1) {
            throw new IllegalArgumentException("--multiple=" + multiple + ", expected at least 1");
        }
        int keep = width - (int) Math.round(ratio * width);
        if (multiple > 1 && ratio > 0) {
            keep = (int) Math.round((double) keep / multiple) * multiple;
            keep = Math.max(multiple, Math.min(width, keep));
        }
        return Math.max(1, keep);
    }

    /**
     * Scores of the FFN neurons of one layer; {@code down} is [dim][ffn] and {@code up} [ffn][dim],
     * row-major; {@code meanAbs[j]} the calibration's mean |h_j| (ignored by {@link Measure#WEIGHT}).
     */
    public static double[] neuronScores(Measure m, double[] meanAbs, float[] down, float[] up, int dim, int ffn) {
        if (m == Measure.OBS) {
            throw new IllegalArgumentException("importance " + m + " selects a set (SurgeonSelection), not scores");
        }
        double[] s = new double[ffn];
        for (int j = 0; j < ffn; j++) {
            double d = 0;
            for (int o = 0; o < dim; o++) {
                d += (double) down[o * ffn + j] * down[o * ffn + j];
            }
            d = Math.sqrt(d);
            if (m != Measure.WEIGHT) {
                s[j] = meanAbs[j] * d;
            } else {
                double u = 0;
                for (int i = 0; i < dim; i++) {
                    u += (double) up[j * dim + i] * up[j * dim + i];
                }
                s[j] = Math.sqrt(u) * d;
            }
        }
        return s;
    }

    /** Scores of the query heads of one layer: mean head output norm × ‖attn_output[:, head]‖_F ([dim][heads·hd]). */
    public static double[] headScores(double[] meanNorm, float[] attnOutput, int dim, int heads, int headDim) {
        int q = heads * headDim;
        double[] s = new double[heads];
        for (int h = 0; h < heads; h++) {
            double f = 0;
            for (int o = 0; o < dim; o++) {
                for (int k = 0; k < headDim; k++) {
                    double v = attnOutput[o * q + h * headDim + k];
                    f += v * v;
                }
            }
            s[h] = meanNorm[h] * Math.sqrt(f);
        }
        return s;
    }

    /** The indices of the {@code k} highest scores, ascending (ties: the lower index wins). */
    public static int[] keepTop(double[] score, int k) {
        if (k < 1 || k > score.length) {
            throw new IllegalArgumentException("keep=" + k + ", expected within [1, " + score.length + "]");
        }
        int[] top = IntStream.range(0, score.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -score[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
        Arrays.sort(top);
        return top;
    }

    /**
     * Query heads to keep: {@code removePerGroup} of the lowest-scoring heads of every KV group
     * (heads {@code g·G .. g·G+G−1} share KV head g), so every group keeps the same count and the
     * head → KV-group mapping stays the architecture's {@code h / (heads / kvHeads)}.
     */
    public static int[] keptHeads(double[] score, int kvHeads, int removePerGroup) {
        int heads = score.length;
        int group = heads / kvHeads;
        if (removePerGroup < 0 || removePerGroup >= group) {
            throw new IllegalArgumentException("heads to remove per KV group=" + removePerGroup + ", expected within [0, "
                    + (group - 1) + "] (" + group + " query heads per group)");
        }
        int[] kept = new int[heads - removePerGroup * kvHeads];
        int n = 0;
        for (int g = 0; g < kvHeads; g++) {
            double[] s = Arrays.copyOfRange(score, g * group, (g + 1) * group);
            for (int i : keepTop(s, group - removePerGroup)) {
                kept[n++] = g * group + i;
            }
        }
        return kept;
    }

    /** The {@code k} layers with the least block influence {@code 1 − meanCos[l]}, ascending. */
    public static int[] layersToDrop(double[] meanCos, int k) {
        if (k < 0 || k >= meanCos.length) {
            throw new IllegalArgumentException("--layers=" + k + ", expected within [0, " + (meanCos.length - 1) + "]");
        }
        double[] influence = new double[meanCos.length];
        for (int l = 0; l < influence.length; l++) {
            influence[l] = -(1 - meanCos[l]);
        }
        return k == 0 ? new int[0] : keepTop(influence, k);
    }
}
