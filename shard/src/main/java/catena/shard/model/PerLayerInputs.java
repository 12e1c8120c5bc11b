package catena.shard.model;

import catena.shard.kernel.MatMul;
import catena.shard.tensor.Matrix;
import catena.shard.tensor.Weights;
import java.util.function.ToLongFunction;

/**
 * Gemma 4 per-layer embeddings (PLE, GEMMA_SPEC §8.5) for the layers [from, to) of one slice. They
 * depend only on the token id, so any pipeline stage computes its own from {@link Batch#token}:
 * stages must add rows with their ids ({@code Batch.add(cache, ids, off, count)}), which is why
 * every PLE stage maps {@code token_embd} (only the rows of the batch's tokens are touched).
 *
 * <p>{@code ple[l] = (norm((proj · e)[l] / sqrt(E)) + tok[t][l] · sqrt(P)) / sqrt(2)} with
 * {@code e = token_embd[t] · sqrt(E)}.
 */
final class PerLayerInputs {
    private final ModelConfig config;
    private final int from;
    private final int width;
    private final Matrix tokenEmbd;
    private final Matrix perLayerTokenEmbd;
    /** Rows [from·P, to·P) of per_layer_model_proj: only this slice's layers are projected. */
    private final Matrix modelProj;
    private final float[] projNorm;
    private float[] embd = new float[0];
    private final float[] tokRow;
    /** [rows][(to-from)·P]: row r's input for layer l at {@code (r·(to-from) + l-from)·P}. */
    float[] values = new float[0];

    PerLayerInputs(Weights w, ModelConfig c, Matrix tokenEmbd, int from, int to) {
        int p = c.pleDim();
        this.config = c;
        this.from = from;
        this.width = (to - from) * p;
        this.tokenEmbd = tokenEmbd;
        this.perLayerTokenEmbd = w.matrix("per_layer_token_embd.weight");
        Matrix proj = w.matrix("per_layer_model_proj.weight");
        this.projNorm = w.vector("per_layer_proj_norm.weight");
        int total = p * c.layerCount();
        if (perLayerTokenEmbd.cols() != total || perLayerTokenEmbd.rows() != c.vocabSize()) {
            throw new catena.shard.gguf.GgufFormatException("per_layer_token_embd.weight is " + perLayerTokenEmbd.rows()
                    + " rows of " + perLayerTokenEmbd.cols() + ", expected " + c.vocabSize() + " of " + total);
        }
        if (proj.cols() != c.dim() || proj.rows() != total || projNorm.length != p) {
            throw new catena.shard.gguf.GgufFormatException("per_layer_model_proj.weight / per_layer_proj_norm.weight "
                    + "do not match embedding_length " + c.dim() + " and " + total + " per-layer inputs");
        }
        this.modelProj = proj.slice(from * p, width);
        this.tokRow = new float[total];
    }

    /** Bytes one token reads: the projection of this slice's layers (the table lookups are one row each). */
    long bytes(ToLongFunction<Matrix> size) {
        return size.applyAsLong(modelProj);
    }

    /** Fills {@link #values} for every row of {@code batch}. */
    void compute(Batch batch, int rows) {
        if (!batch.hasTokens()) {
            throw new IllegalArgumentException("this Gemma 4 model has per-layer embeddings, which need each "
                    + "row's token id: add rows with Batch.add(cache, ids, off, count)");
        }
        int dim = config.dim();
        int p = config.pleDim();
        if (embd.length < rows * dim) {
            embd = new float[rows * dim];
            values = new float[rows * width];
        }
        for (int r = 0; r < rows; r++) {
            int t = batch.token(r);
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
            tokenEmbd.row(t, embd, r * dim);
            for (int i = 0; i < dim; i++) {
                embd[r * dim + i] *= config.embedScale();
            }
        }
        MatMul.matmul(modelProj, embd, values, rows);
        float projScale = (float) (1.0 / Math.sqrt(dim));
        float tokScale = (float) Math.sqrt(p);
        float mix = (float) (1.0 / Math.sqrt(2.0));
        for (int i = 0; i < rows * width; i++) {
            values[i] *= projScale;
        }
        RmsNorm.apply(values, values, rows * (width / p), p, projNorm, config.eps());
        for (int r = 0; r < rows; r++) {
            perLayerTokenEmbd.row(batch.token(r), tokRow, 0);
            int off = r * width;
            for (int i = 0; i < width; i++) {
                values[off + i] = (values[off + i] + tokRow[from * p + i] * tokScale) * mix;
            }
        }
    }

    /** Offset of row {@code r}'s input for layer {@code l} in {@link #values}. */
    int offset(int r, int l) {
        return r * width + (l - from) * config.pleDim();
    }
}
