package catena.shard.model;

import catena.shard.tensor.Matrix;
import catena.shard.tensor.Weights;
import java.util.function.ToLongFunction;

/**
 * One layer's tensors; optional ones are null when the architecture (or this layer) has none:
 * {@code attnK}/{@code attnV}/{@code attnKNorm} on Gemma 4 KV-shared layers, {@code attnV} on
 * Gemma 4 global layers that reuse K as V, {@code ple} without per-layer embeddings, {@code moe} on
 * dense layers. {@code outputScale} is Gemma 4's {@code layer_output_scale} (1 when absent).
 */
record LayerWeights(float[] attnNorm, Matrix attnQ, Matrix attnK, Matrix attnV, Matrix attnOutput,
                    float[] attnQNorm, float[] attnKNorm, float[] postAttentionNorm,
                    float[] ffnNorm, Matrix ffnGate, Matrix ffnUp, Matrix ffnDown, float[] postFfwNorm,
                    MoeWeights moe, PleWeights ple, float outputScale) {

    static LayerWeights load(Weights w, ModelConfig c, int l) {
        String b = "blk." + l + ".";
        boolean gemma4 = c.arch() == Arch.GEMMA4;
        // A KV-shared layer's own K/V projections (if the file has them) are never used: don't map them.
        boolean ownsKv = c.ownsKv(l);
        return new LayerWeights(
                w.vector(b + "attn_norm.weight"),
                w.matrix(b + "attn_q.weight"),
                ownsKv ? w.matrix(b + "attn_k.weight") : null,
                ownsKv && (!gemma4 || w.has(b + "attn_v.weight")) ? w.matrix(b + "attn_v.weight") : null,
                w.matrix(b + "attn_output.weight"),
                optVector(w, b + "attn_q_norm.weight"),
                ownsKv ? optVector(w, b + "attn_k_norm.weight") : null,
                optVector(w, b + "post_attention_norm.weight"),
                w.vector(b + "ffn_norm.weight"),
                w.matrix(b + "ffn_gate.weight"),
                w.matrix(b + "ffn_up.weight"),
                w.matrix(b + "ffn_down.weight"),
                optVector(w, b + "post_ffw_norm.weight"),
                gemma4 && w.has(b + "ffn_gate_inp.weight") ? MoeWeights.load(w, c, l) : null,
                gemma4 && c.pleDim() > 0 ? PleWeights.load(w, l) : null,
                gemma4 && w.has(b + "layer_output_scale.weight") ? scalar(w, b + "layer_output_scale.weight") : 1f);
    }

    private static float[] optVector(Weights w, String name) {
        return w.has(name) ? w.vector(name) : null;
    }

    private static float scalar(Weights w, String name) {
        float[] v = w.vector(name);
        if (v.length != 1) {
            throw new catena.shard.gguf.GgufFormatException("tensor '" + name + "' has " + v.length
                    + " elements, expected 1");
        }
        return v[0];
    }

    /**
     * Weight bytes one token reads in this layer: only the experts it is routed to (top-k of them,
     * all of equal size) plus the router, not the whole expert tensors.
     */
    long bytes(ToLongFunction<Matrix> size) {
        long b = size.applyAsLong(attnQ) + size.applyAsLong(attnOutput) + size.applyAsLong(ffnGate)
                + size.applyAsLong(ffnUp) + size.applyAsLong(ffnDown);
        if (attnK != null) {
            b += size.applyAsLong(attnK);
        }
        if (attnV != null) {
            b += size.applyAsLong(attnV);
        }
        if (moe != null) {
            b += moe.activeBytes(size);
        }
        if (ple != null) {
            b += ple.bytes(size);
        }
        return b;
    }
}
