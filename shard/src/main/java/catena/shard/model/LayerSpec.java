package catena.shard.model;

/**
 * The geometry of one transformer layer. Gemma 4 varies these per layer (head dims and KV heads of
 * local vs global layers); earlier generations repeat one spec.
 *
 * @param sliding    attends to the last {@code window} positions only (local layer)
 * @param ropeBase   RoPE frequency base of this layer
 * @param ropeScale  RoPE position scale (1 / linear scaling factor)
 * @param kvSource   the layer whose KV cache this layer attends over: itself, or for a Gemma 4
 *                   KV-shared layer an earlier "donor" layer (the sharer then stores no K/V)
 */
public record LayerSpec(int heads, int kvHeads, int headDim, int ffnDim, boolean sliding, int window,
                        float ropeBase, float ropeScale, int ropeDims, int kvSource) {

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }
}
