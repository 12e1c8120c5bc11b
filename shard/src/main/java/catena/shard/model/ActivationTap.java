package catena.shard.model;

/**
 * Observes a forward pass's intermediate activations, for calibration (activation-aware pruning
 * and its least-squares repair need the inputs of the output projections). Buffers are the
 * model's own scratch: read them during the call, never keep them. All methods default to
 * nothing, so a tap implements only what it needs.
 */
public interface ActivationTap {
    /** {@code x[0 .. rows*dim)}: the residual stream entering layer {@code l}. */
    default void layerInput(int l, float[] x, int rows, int dim) {
    }

    /** {@code att[0 .. rows*qDim)}: the concatenated head outputs, the input of {@code attn_output}. */
    default void attentionHeads(int l, float[] att, int rows, int qDim) {
    }

    /**
     * {@code x[0 .. rows*dim)}: the residual stream after layer {@code l}'s attention output was
     * added (its post-attention norm applied, when it has one), the input of the FFN's pre-norm.
     */
    default void attentionResidual(int l, float[] x, int rows, int dim) {
    }

    /** {@code h[0 .. rows*ffnDim)}: the gated activation, the input of {@code ffn_down}. */
    default void ffnHidden(int l, float[] h, int rows, int ffnDim) {
    }

    /** {@code x[0 .. rows*dim)}: the residual stream leaving layer {@code l}. */
    default void layerOutput(int l, float[] x, int rows, int dim) {
    }
}
