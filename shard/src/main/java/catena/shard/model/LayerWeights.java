package catena.shard.model;

import catena.shard.tensor.Matrix;
import catena.shard.tensor.Weights;

/** One layer's tensors; optional ones are null when the architecture has none. */
record LayerWeights(float[] attnNorm, Matrix attnQ, Matrix attnK, Matrix attnV, Matrix attnOutput,
                    float[] attnQNorm, float[] attnKNorm, float[] postAttentionNorm,
                    float[] ffnNorm, Matrix ffnGate, Matrix ffnUp, Matrix ffnDown, float[] postFfwNorm) {

    static LayerWeights load(Weights w, int l) {
        String b = "blk." + l + ".";
        return new LayerWeights(
                w.vector(b + "attn_norm.weight"),
                w.matrix(b + "attn_q.weight"),
                w.matrix(b + "attn_k.weight"),
                w.matrix(b + "attn_v.weight"),
                w.matrix(b + "attn_output.weight"),
                optVector(w, b + "attn_q_norm.weight"),
                optVector(w, b + "attn_k_norm.weight"),
                optVector(w, b + "post_attention_norm.weight"),
                w.vector(b + "ffn_norm.weight"),
                w.matrix(b + "ffn_gate.weight"),
                w.matrix(b + "ffn_up.weight"),
                w.matrix(b + "ffn_down.weight"),
                optVector(w, b + "post_ffw_norm.weight"));
    }

    private static float[] optVector(Weights w, String name) {
        return w.has(name) ? w.vector(name) : null;
    }

    /** Weight bytes one token reads in this layer. */
    long bytes() {
        return attnQ.byteSize() + attnK.byteSize() + attnV.byteSize() + attnOutput.byteSize()
                + ffnGate.byteSize() + ffnUp.byteSize() + ffnDown.byteSize();
    }
}
