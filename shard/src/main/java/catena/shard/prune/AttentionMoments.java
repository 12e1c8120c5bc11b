package catena.shard.prune;

import catena.shard.model.ActivationTap;

/**
 * The moments of the sequential attention-output refit of one student layer. In a pre-norm layer
 * without a post-attention norm the residual after attention is {@code x + Wo a}, so the student
 * ({@code x_S}, {@code a_S}: its own layer input and head outputs) reproduces the teacher's
 * post-attention residual {@code m_T} exactly when {@code Wo a_S = y} with {@code y = m_T − x_S}:
 * the refit also absorbs the error the student's earlier layers left in {@code x_S}. Gathers
 * {@code G = Σ a_S a_Sᵀ}, {@code C = Σ a_S yᵀ} and {@code Σ‖y‖²} over the calibration rows;
 * {@link #refit} is the ridge solution {@code V = Cᵀ (G + λI)⁻¹} with {@link Ridge#lambda}'s λ.
 * With a post-attention norm ({@code x + norm(Wo a)}) the target is not linear in Wo, so such
 * layers are not refitted this way (see {@link SequentialRepair}).
 */
final class AttentionMoments implements ActivationTap {
    private final int layer;
    private final int dim;
    private final int qDim;
    private final float[] targets;
    final double[] gram;
    final double[] cross;
    double energy;
    long rows;
    private float[] x = new float[0];

    /**
     * For layer {@code layer} (the student's index) with {@code qDim} concatenated head outputs;
     * {@code targets}: the teacher's post-attention residual of every calibration row, [rows][dim],
     * in the order the rows are fed.
     */
    AttentionMoments(int layer, int dim, int qDim, float[] targets) {
        this.layer = layer;
        this.dim = dim;
        this.qDim = qDim;
        this.targets = targets;
        this.gram = new double[qDim * qDim];
        this.cross = new double[qDim * dim];
    }

    @Override
    public void layerInput(int l, float[] in, int n, int d) {
        if (l == layer) {
            if (x.length < n * d) {
                x = new float[n * d];
            }
            System.arraycopy(in, 0, x, 0, n * d);
        }
    }

    @Override
    public void attentionHeads(int l, float[] att, int n, int q) {
        if (l != layer) {
            return;
        }
        if (q != qDim) {
            throw new IllegalStateException("attention repair: layer " + l + " has qDim=" + q + ", expected " + qDim);
        }
        add(att, x, n);
    }

    /** Adds rows {@code a} ([n][qDim]) with layer inputs {@code in} ([n][dim]), the next n of the targets. */
    void add(float[] a, float[] in, int n) {
        double[] y = new double[dim];
        for (int r = 0; r < n; r++, rows++) {
            if ((rows + 1) * dim > targets.length) {
                throw new IllegalStateException("attention repair: more rows than the " + targets.length / dim
                        + " teacher targets");
            }
            int t = Math.toIntExact(rows * dim);
            for (int o = 0; o < dim; o++) {
                y[o] = (double) targets[t + o] - in[r * dim + o];
                energy += y[o] * y[o];
            }
            int ar = r * qDim;
            for (int i = 0; i < qDim; i++) {
                double ai = a[ar + i];
                if (ai == 0) {
                    continue;
                }
                for (int j = 0; j <= i; j++) {
                    gram[i * qDim + j] += ai * a[ar + j];
                }
                for (int o = 0; o < dim; o++) {
                    cross[i * dim + o] += ai * y[o];
                }
            }
        }
    }

    /** The full Gram matrix (the lower triangle is accumulated, mirrored here): a fresh array. */
    private double[] fullGram() {
        double[] g = gram.clone();
        for (int i = 0; i < qDim; i++) {
            for (int j = i + 1; j < qDim; j++) {
                g[i * qDim + j] = g[j * qDim + i];
            }
        }
        return g;
    }

    /** The refitted {@code attn_output}, [dim][qDim] row-major, ridge-regularized by {@code alpha}. */
    float[] refit(double alpha) {
        return Ridge.solve(fullGram(), qDim, cross.clone(), dim, alpha);
    }

    /** {@code Σ‖y − V a_S‖² / Σ‖y‖²} of {@code v} ([dim][qDim]) on the gathered rows. */
    double relativeError(float[] v) {
        return Ridge.residual(energy, fullGram(), qDim, cross, dim, Ridge.identity(qDim), v) / energy;
    }
}
