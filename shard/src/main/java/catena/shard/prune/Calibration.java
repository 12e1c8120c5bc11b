package catena.shard.prune;

import catena.shard.model.ActivationTap;
import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.Model;
import catena.shard.model.ModelConfig;
import java.util.List;

/**
 * Statistics of a teacher model's activations over calibration tokens, gathered by an
 * {@link ActivationTap}: per layer the summed |h| of each FFN neuron and the Gram matrix
 * {@code Σ h hᵀ} of the FFN hidden vector (the input of {@code ffn_down}), the summed norm of each
 * query head's output and the Gram matrix of the concatenated head outputs (the input of
 * {@code attn_output}), and the summed cosine between each layer's input and output residual.
 * Gram matrices are all a ridge refit of the output projections needs, so no activation is kept.
 */
public final class Calibration implements ActivationTap {
    private final ModelConfig config;
    private final boolean grams;
    final double[][] ffnAbs;
    final double[][] ffnSq;
    final double[][] ffnGram;
    final double[][] headNorm;
    final double[][] attGram;
    final double[] layerCos;
    /** Per layer, the residual leaving it for every calibration token ([tokens][dim]); null unless asked for. */
    private final float[][] outputs;
    private final int[] outputRows;
    /** Per layer, the residual after its attention for every calibration token ([tokens][dim]); null unless asked for. */
    private final float[][] residuals;
    private final int[] residualRows;
    private long tokens;
    private float[] input = new float[0];

    private Calibration(ModelConfig config, boolean grams, int keepOutputsOf, int keepResidualsOf) {
        this.config = config;
        this.grams = grams;
        int n = config.layerCount();
        this.outputs = keepOutputsOf > 0 ? new float[n][Math.multiplyExact(keepOutputsOf, config.dim())] : null;
        this.outputRows = new int[n];
        this.residuals = keepResidualsOf > 0 ? new float[n][Math.multiplyExact(keepResidualsOf, config.dim())] : null;
        this.residualRows = new int[n];
        ffnAbs = new double[n][];
        ffnSq = new double[n][];
        ffnGram = new double[n][];
        headNorm = new double[n][];
        attGram = new double[n][];
        layerCos = new double[n];
        for (int l = 0; l < n; l++) {
            int f = config.layer(l).ffnDim();
            int q = config.layer(l).qDim();
            ffnAbs[l] = new double[f];
            ffnSq[l] = new double[f];
            headNorm[l] = new double[config.layer(l).heads()];
            if (grams) {
                ffnGram[l] = new double[f * f];
                attGram[l] = new double[q * q];
            }
        }
    }

    /**
     * Runs each sequence of {@code tokens} through {@code model} in chunks of at most {@code ctx} tokens, each from an
     * empty cache with its first token replaced by {@code bos} (when {@code bos >= 0}, as perplexity
     * does), and returns the statistics. {@code grams}: also gather the Gram matrices (for repair);
     * {@code outputs}: also keep every layer's output residual (the targets of sequential repair).
     */
    public static Calibration run(Model model, List<int[]> tokens, int ctx, int bos, boolean grams, boolean outputs) {
        return run(model, tokens, ctx, bos, grams, outputs, false);
    }

    /**
     * As {@link #run(Model, List, int, int, boolean, boolean)}; {@code residuals}: also keep every
     * layer's residual after its attention (the targets of the sequential attention repair).
     */
    public static Calibration run(Model model, List<int[]> tokens, int ctx, int bos, boolean grams, boolean outputs,
                                  boolean residuals) {
        if (!model.hasEmbedding() || !model.hasHead()) {
            throw new IllegalArgumentException("calibration needs a whole model, not layers [" + model.fromLayer()
                    + ", " + model.toLayer() + ")");
        }
        if (ctx < 2 || ctx > model.config().contextLength()) {
            throw new IllegalArgumentException("calibration: ctx=" + ctx + ", expected within [2, "
                    + model.config().contextLength() + "]");
        }
        int total = 0;
        for (int[] t : tokens) {
            total = Math.addExact(total, t.length);
        }
        if (total < 2) {
            throw new IllegalArgumentException("calibration text: tokens=" + total + ", expected at least 2");
        }
        Calibration c = new Calibration(model.config(), grams, outputs ? total : 0, residuals ? total : 0);
        c.tokens = feed(model, tokens, ctx, bos, c);
        return c;
    }

    /**
     * Runs each sequence of {@code tokens} through {@code model} with {@code tap} attached, in chunks of at most
     * {@code ctx} tokens, each from an empty cache with its first token replaced by {@code bos}
     * (when {@code bos >= 0}); returns the token positions run. Rows reach the tap in token order.
     */
    static long feed(Model model, List<int[]> sequences, int ctx, int bos, ActivationTap tap) {
        int dim = model.config().dim();
        float[] x = new float[ctx * dim];
        int[] chunk = new int[ctx];
        Batch batch = new Batch();
        long fed = 0;
        model.tap(tap);
        try {
            for (int[] tokens : sequences) {
                for (int start = 0; start < tokens.length; start += ctx) {
                    int n = Math.min(ctx, tokens.length - start);
                    System.arraycopy(tokens, start, chunk, 0, n);
                    if (bos >= 0) {
                        chunk[0] = bos;
                    }
                    model.embed(chunk, 0, n, x);
                    batch.clear();
                    KvCache cache = model.newCache();
                    model.forward(batch.add(cache, chunk, 0, n), x);
                    cache.free(); // its off-heap pages return to the pool at the next pass
                    fed += n;
                }
            }
        } finally {
            model.tap(null);
        }
        return fed;
    }

    /** Token positions the statistics were gathered over. */
    public long tokens() {
        return tokens;
    }

    /** Whether the Gram matrices were gathered. */
    public boolean hasGrams() {
        return grams;
    }

    /** Mean |h_j| of FFN neuron {@code j} of layer {@code l}. */
    public double meanAbsActivation(int l, int j) {
        return ffnAbs[l][j] / tokens;
    }

    /** Root mean square of FFN neuron {@code j} of layer {@code l}. */
    public double rmsActivation(int l, int j) {
        return Math.sqrt(ffnSq[l][j] / tokens);
    }

    /** Mean norm of query head {@code h}'s output in layer {@code l}. */
    public double meanHeadNorm(int l, int h) {
        return headNorm[l][h] / tokens;
    }

    /** Mean cosine similarity of layer {@code l}'s output residual to its input. */
    public double meanCosine(int l) {
        return layerCos[l] / tokens;
    }

    /** {@code Σ h hᵀ} of layer {@code l}'s FFN hidden vectors, row-major [ffnDim][ffnDim]. */
    public double[] ffnGram(int l) {
        return ffnGram[l];
    }

    /** {@code Σ a aᵀ} of layer {@code l}'s concatenated head outputs, row-major [qDim][qDim]. */
    public double[] attentionGram(int l) {
        return attGram[l];
    }

    @Override
    public void layerInput(int l, float[] x, int rows, int dim) {
        if (input.length < rows * dim) {
            input = new float[rows * dim];
        }
        System.arraycopy(x, 0, input, 0, rows * dim);
    }

    /** Layer {@code l}'s output residual of every calibration token, [tokens][dim] (kept when asked for). */
    public float[] outputs(int l) {
        if (outputs == null) {
            throw new IllegalStateException("calibration was run without keeping layer outputs");
        }
        return outputs[l];
    }

    /** Layer {@code l}'s residual after its attention, every calibration token, [tokens][dim] (kept when asked for). */
    public float[] attentionResiduals(int l) {
        if (residuals == null) {
            throw new IllegalStateException("calibration was run without keeping attention residuals");
        }
        return residuals[l];
    }

    @Override
    public void attentionResidual(int l, float[] x, int rows, int dim) {
        if (residuals != null) {
            System.arraycopy(x, 0, residuals[l], residualRows[l] * dim, rows * dim);
            residualRows[l] += rows;
        }
    }

    @Override
    public void layerOutput(int l, float[] x, int rows, int dim) {
        if (outputs != null) {
            System.arraycopy(x, 0, outputs[l], outputRows[l] * dim, rows * dim);
            outputRows[l] += rows;
        }
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            double a = 0;
            double b = 0;
            for (int k = 0; k < dim; k++) {
                double u = input[r * dim + k];
                double v = x[r * dim + k];
                dot += u * v;
                a += u * u;
                b += v * v;
            }
            layerCos[l] += a == 0 || b == 0 ? 0 : dot / Math.sqrt(a * b);
        }
    }

    @Override
    public void ffnHidden(int l, float[] h, int rows, int ffnDim) {
        accumulate(h, rows, ffnDim, ffnAbs[l], grams ? ffnGram[l] : null);
        double[] sq = ffnSq[l];
        for (int i = 0; i < rows * ffnDim; i++) {
            sq[i % ffnDim] += (double) h[i] * h[i];
        }
    }

    @Override
    public void attentionHeads(int l, float[] att, int rows, int qDim) {
        int hd = config.layer(l).headDim();
        double[] norms = headNorm[l];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < norms.length; h++) {
                double s = 0;
                for (int k = 0; k < hd; k++) {
                    double v = att[r * qDim + h * hd + k];
                    s += v * v;
                }
                norms[h] += Math.sqrt(s);
            }
        }
        if (grams) {
            accumulate(att, rows, qDim, null, attGram[l]);
        }
    }

    /** Adds |v| to {@code abs} and v vᵀ (lower triangle, mirrored) to {@code gram} for each row v. */
    private static void accumulate(float[] v, int rows, int n, double[] abs, double[] gram) {
        for (int r = 0; r < rows; r++) {
            int o = r * n;
            if (abs != null) {
                for (int j = 0; j < n; j++) {
                    abs[j] += Math.abs(v[o + j]);
                }
            }
            if (gram != null) {
                for (int i = 0; i < n; i++) {
                    double vi = v[o + i];
                    if (vi == 0) {
                        continue;
                    }
                    int gi = i * n;
                    for (int j = 0; j <= i; j++) {
                        gram[gi + j] += vi * v[o + j];
                    }
                }
            }
        }
        if (gram != null && rows > 0) {
            // mirrored once per call: the upper triangle is rebuilt from the lower one
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    gram[i * n + j] = gram[j * n + i];
                }
            }
        }
    }
}
