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
 * Layer-wise distillation of the FFN output projections, one layer after the other: for pruned
 * layer l the student is the model with layers before l already pruned and repaired, layer l's
 * attention pruned and its FFN still whole. Run on the calibration tokens, it gives the student's
 * own FFN activations {@code h} (so earlier layers' errors are seen and can be compensated) and
 * residual before the FFN, {@code x_mid}. The new {@code ffn_down} ({@code V}) minimizes
 * {@code Σ_t ‖(x_mid + V h_S) − x_out^teacher‖² + λ‖V‖²}: the pruned layer's output is fitted to
 * the unpruned teacher layer's output. Each step writes the partly repaired model to a temporary
 * file and runs it with the engine, so the activations are exactly what the pruned file computes.
 */
final class SequentialRepair {
    private SequentialRepair() {
    }

    /**
     * Fills {@code plan.ffnDown()} for every layer with pruned FFN neurons; {@code before}/{@code after}
     * receive the relative error {@code Σ‖y − V h_S‖² / Σ‖y‖²} (y = the target FFN output) of the
     * plain slice and of the refit, on the calibration tokens. {@code select}: also choose which
     * neurons layer l keeps (as many as the plan keeps) by {@link SurgeonSelection} on the student's
     * Gram matrix, starting from the whole-width least-squares fit to the teacher's layer output, so
     * the choice minimizes the error this very refit leaves; the plan's choice is replaced.
     */
    static void run(GgufFile f, ModelConfig c, PrunePlan plan, Calibration teacher, List<int[]> tokens, int ctx, int bos,
                    double alpha, boolean select, Path dir, double[] before, double[] after) throws IOException {
        int dim = c.dim();
        for (int l = 0; l < c.layerCount(); l++) {
            int[] kept = plan.keptNeurons()[l];
            if (kept == null || plan.dropped()[l]) {
                continue;
            }
            int width = c.layer(l).ffnDim();
            float[] down = Tensors.read(f, f.tensors().get("blk." + l + ".ffn_down.weight"));
            PrunePlan partial = partial(plan, l);
            Path tmp = Files.createTempFile(dir, "prune-step-", ".gguf");
            try {
                PrunedWriter.write(f, c, partial, tmp);
                // selecting needs the moments of every neuron; otherwise those of the kept ones suffice
                int[] tapped = select ? Ridge.identity(width) : kept;
                Moments m = new Moments(plan.newIndex(l), tapped, down, dim, width, teacher.outputs(l));
                try (Model student = Model.load(tmp, LoadOptions.keepF32(true))) {
                    Calibration.feed(student, tokens, ctx, bos, m);
                }
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
                before[l] = m.error(pos, slice) / m.energy;
                after[l] = m.error(pos, v) / m.energy;
                plan.ffnDown()[l] = v;
            } finally {
                Files.deleteIfExists(tmp);
            }
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
            int k = kept.length;
            int p = pos.length;
            double e = energy;
            for (int o = 0; o < dim; o++) {
                for (int i = 0; i < p; i++) {
                    double vi = v[o * p + i];
                    e -= 2 * vi * cross[pos[i] * dim + o];
                    double s = 0;
                    for (int j = 0; j < p; j++) {
                        s += gram[pos[i] * k + pos[j]] * v[o * p + j];
                    }
                    e += vi * s;
                }
            }
            return e;
        }
    }
}
