package catena.shard.prune;

import catena.shard.gguf.GgufFile;
import catena.shard.model.ActivationTap;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Layer-wise distillation of the output projections, one layer after the other: for pruned layer
 * l the student is the model with layers before l already pruned and repaired, layer l's attention
 * pruned and its FFN still whole. Run on the calibration tokens, it gives the student's own
 * activations, so earlier layers' errors are seen and can be compensated. First, when asked, the
 * attention output projection ({@link AttentionMoments}): {@code attn_output} is refitted so that
 * the student's residual after attention, {@code x_S + Wo a_S}, matches the teacher's. Then, on a
 * second run with that refit in place, the FFN: the student's FFN activations {@code h} and
 * residual before the FFN, {@code x_mid}; the new {@code ffn_down} ({@code V}) minimizes
 * {@code Σ_t ‖(x_mid + V h_S) − x_out^teacher‖² + λ‖V‖²}: the pruned layer's output is fitted to
 * the unpruned teacher layer's output. Each step writes the partly repaired model to a temporary
 * file and runs it with the engine, so the activations are exactly what the pruned file computes.
 */
final class SequentialRepair {
    private SequentialRepair() {
    }

    /** What the pass refits, and its per-layer relative errors before → after (NaN: not refitted). */
    record Errors(double[] ffnBefore, double[] ffnAfter, double[] attBefore, double[] attAfter) {
    }

    /**
     * Fills {@code plan.ffnDown()} for every layer with pruned FFN neurons, and with {@code attention}
     * {@code plan.attnOutput()} for every layer whose input the pruning changed (an earlier layer is
     * pruned or dropped) or whose heads are pruned, except layers with a post-attention norm, which are
     * left as they are (see {@link #attentionRefittable}; {@link Pruner} rejects such models). The error arrays receive the relative error
     * {@code Σ‖y − V h‖² / Σ‖y‖²} (y = the target) of the previous projection and of the refit, on the
     * calibration tokens. {@code select}: also choose which neurons layer l keeps (as many as the plan
     * keeps) by {@link SurgeonSelection} on the student's Gram matrix, starting from the whole-width
     * least-squares fit to the teacher's layer output, so the choice minimizes the error this very
     * refit leaves; the plan's choice is replaced.
     */
    static void run(GgufFile f, ModelConfig c, PrunePlan plan, Calibration teacher, List<int[]> tokens, int ctx, int bos,
                    double alpha, boolean select, boolean attention, Path dir, Errors err) throws IOException {
        int dim = c.dim();
        for (int l = 0; l < c.layerCount(); l++) {
            if (plan.dropped()[l]) {
                continue;
            }
            if (attention && attentionRefittable(f, l) && (upstreamChanged(plan, l) || plan.keptHeads()[l] != null)) {
                refitAttention(f, c, plan, l, teacher, tokens, ctx, bos, alpha, dir, err);
            }
            int[] kept = plan.keptNeurons()[l];
            if (kept == null) {
                continue;
            }
            int width = c.layer(l).ffnDim();
            float[] down = Tensors.read(f, f.tensors().get("blk." + l + ".ffn_down.weight"));
            // selecting needs the moments of every neuron; otherwise those of the kept ones suffice
            int[] tapped = select ? Ridge.identity(width) : kept;
            Moments m = new Moments(plan.newIndex(l), tapped, down, dim, width, teacher.outputs(l));
            runStudent(f, c, partial(plan, l), tokens, ctx, bos, dir, m);
            int[] pos = Ridge.identity(kept.length);
            if (select) {
                // the whole-width fit V* = C G⁻¹ is what the refit of any subset approximates: the subset's
                // ridge objective exceeds V*'s by exactly the surgeon's cost on (V*, G)
                float[] full = Ridge.solve(m.gram.clone(), width, m.cross.clone(), dim, alpha);
                kept = SurgeonSelection.keep(full, dim, width, m.gram, kept.length, alpha);
                plan.keptNeurons()[l] = kept;
                pos = kept;
            }
            float[] slice = Ridge.columns(down, dim, width, kept);
            float[] v = Ridge.solve(m.gram(pos), kept.length, m.cross(pos), dim, alpha);
            err.ffnBefore()[l] = m.error(pos, slice) / m.energy;
            err.ffnAfter()[l] = m.error(pos, v) / m.energy;
            plan.ffnDown()[l] = v;
        }
    }

    /**
     * Whether layer {@code l}'s attention output can be refitted by linear least squares: not when
     * it has a post-attention norm (Gemma 2/3/4: {@code x + norm(Wo a)}, whose RMS scaling makes the
     * target non-linear in Wo).
     */
    static boolean attentionRefittable(GgufFile f, int l) {
        return !f.tensors().containsKey("blk." + l + ".post_attention_norm.weight");
    }

    /**
     * The tensor that makes some layer's output non-linear in its {@code ffn_down} (a post-FFN norm,
     * Gemma 4's layer output scale or per-layer inputs added after the FFN), or null when none does.
     * The sequential FFN refit fits {@code x_mid + V h} to the teacher's layer output, which holds
     * only where the FFN output is added to the residual as it is; the teacher-side refit
     * ({@link Ridge#refit}) fits the FFN output itself and needs no such condition.
     */
    static String nonLinearFfnOutput(GgufFile f, int layerCount) {
        if (f.tensors().containsKey("per_layer_token_embd.weight")) {
            return "per_layer_token_embd.weight";
        }
        for (int l = 0; l < layerCount; l++) {
            for (String t : new String[] {"post_ffw_norm.weight", "layer_output_scale.weight"}) {
                if (f.tensors().containsKey("blk." + l + "." + t)) {
                    return "blk." + l + "." + t;
                }
            }
        }
        return null;
    }

    /** Whether some layer before {@code l} is pruned or dropped, so layer l's student input differs from the teacher's. */
    static boolean upstreamChanged(PrunePlan plan, int l) {
        for (int i = 0; i < l; i++) {
            if (plan.dropped()[i] || plan.keptNeurons()[i] != null || plan.keptHeads()[i] != null) {
                return true;
            }
        }
        return false;
    }

    private static void refitAttention(GgufFile f, ModelConfig c, PrunePlan plan, int l, Calibration teacher,
                                       List<int[]> tokens, int ctx, int bos, double alpha, Path dir, Errors err)
            throws IOException {
        int dim = c.dim();
        int q = c.layer(l).qDim();
        int[] heads = plan.keptHeads()[l];
        int[] cols = heads == null ? Ridge.identity(q) : Tensors.expand(heads, c.layer(l).headDim());
        float[] current = plan.attnOutput()[l];
        if (current == null) {
            float[] wo = Tensors.read(f, f.tensors().get("blk." + l + ".attn_output.weight"));
            current = heads == null ? wo : Ridge.columns(wo, dim, q, cols);
        }
        AttentionMoments m = new AttentionMoments(plan.newIndex(l), dim, cols.length, teacher.attentionResiduals(l));
        runStudent(f, c, partial(plan, l), tokens, ctx, bos, dir, m);
        float[] v = m.refit(alpha);
        err.attBefore()[l] = m.relativeError(current);
        err.attAfter()[l] = m.relativeError(v);
        plan.attnOutput()[l] = v;
    }

    /** Writes {@code p} to a temporary file in {@code dir} and runs the calibration tokens through it with {@code tap}. */
    private static void runStudent(GgufFile f, ModelConfig c, PrunePlan p, List<int[]> tokens, int ctx, int bos,
                                   Path dir, ActivationTap tap) throws IOException {
        Path tmp = Files.createTempFile(dir, "prune-step-", ".gguf");
        try {
            PrunedWriter.write(f, c, p, tmp);
            try (Model student = Model.load(tmp, LoadOptions.keepF32(true))) {
                Calibration.feed(student, tokens, ctx, bos, tap);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The final plan for layers before {@code l}, layer l's attention pruned but its FFN whole. */
    private static PrunePlan partial(PrunePlan plan, int l) {
        PrunePlan p = PrunePlan.none(plan.layerCount());
        for (int i = 0; i < plan.layerCount(); i++) {
            p.dropped()[i] = plan.dropped()[i];
            p.keptHeads()[i] = plan.keptHeads()[i];
            p.attnOutput()[i] = plan.attnOutput()[i];
            if (i < l) {
                p.keptNeurons()[i] = plan.keptNeurons()[i];
                p.ffnDown()[i] = plan.ffnDown()[i];
            }
        }
        return p;
    }

    /** Σ h_S h_Sᵀ, Σ h_S yᵀ and Σ‖y‖² of one student layer, with y = x_out^teacher − x_mid. */
    static final class Moments implements ActivationTap {
        private final int layer;
        private final int[] kept;
        private final float[] down;
        private final int dim;
        private final int width;
        private final float[] targets;
        final double[] gram;
        final double[] cross;
        double energy;
        private float[] h = new float[0];
        private int row;

        Moments(int layer, int[] kept, float[] down, int dim, int width, float[] targets) {
            this.layer = layer;
            this.kept = kept;
            this.down = down;
            this.dim = dim;
            this.width = width;
            this.targets = targets;
            this.gram = new double[kept.length * kept.length];
            this.cross = new double[kept.length * dim];
        }

        @Override
        public void ffnHidden(int l, float[] hidden, int rows, int ffnDim) {
            if (l == layer) {
                if (h.length < rows * ffnDim) {
                    h = new float[rows * ffnDim];
                }
                System.arraycopy(hidden, 0, h, 0, rows * ffnDim);
            }
        }

        @Override
        public void layerOutput(int l, float[] x, int rows, int d) {
            if (l != layer) {
                return;
            }
            int k = kept.length;
            double[] hs = new double[k];
            double[] y = new double[dim];
            for (int r = 0; r < rows; r++, row++) {
                for (int i = 0; i < k; i++) {
                    hs[i] = h[r * width + kept[i]];
                }
                for (int o = 0; o < dim; o++) {
                    // x_mid = x_out(whole FFN) − W h: the residual the FFN output is added to
                    double wh = 0;
                    for (int j = 0; j < width; j++) {
                        wh += (double) down[o * width + j] * h[r * width + j];
                    }
                    double mid = x[r * dim + o] - wh;
                    y[o] = targets[row * dim + o] - mid;
                    energy += y[o] * y[o];
                }
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < k; j++) {
                        gram[i * k + j] += hs[i] * hs[j];
                    }
                    for (int o = 0; o < dim; o++) {
                        cross[i * dim + o] += hs[i] * y[o];
                    }
                }
            }
        }

        /** {@code Σ h_P h_Pᵀ} for the positions {@code pos} (into the tapped neurons): [p][p], a fresh array. */
        double[] gram(int[] pos) {
            int k = kept.length;
            int p = pos.length;
            double[] g = new double[p * p];
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    g[i * p + j] = gram[pos[i] * k + pos[j]];
                }
            }
            return g;
        }

        /** {@code Σ h_P yᵀ} for the positions {@code pos}: [p][dim], a fresh array. */
        double[] cross(int[] pos) {
            double[] c = new double[pos.length * dim];
            for (int i = 0; i < pos.length; i++) {
                System.arraycopy(cross, pos[i] * dim, c, i * dim, dim);
            }
            return c;
        }

        /** {@code Σ‖y − V h_P‖² = Σ‖y‖² − 2 tr(V C_P) + tr(V G_PP Vᵀ)} for V [dim][p] on the positions {@code pos}. */
        double error(int[] pos, float[] v) {
            return Ridge.residual(energy, gram, kept.length, cross, dim, pos, v);
        }
    }
}
