package catena.shard.model;

import catena.shard.kernel.ComputePool;

/**
 * The FFN's gate: {@code h[i] = act(gate[i]) * up[i]} with GELU (Gemma, through llama.cpp's f16
 * table) or SiLU (Llama), split over the compute pool in slices of {@link #SLICE} elements so that
 * the other core keeps working between the gate/up and down projections (and is awake for the
 * down projection). Element-wise, so the split does not change any result.
 */
final class GatedActivation implements ComputePool.ChunkTask {
    static final int SLICE = 4096;

    private final boolean gelu;
    private float[] gate;
    private float[] up;
    private int n;
    private int slice;

    GatedActivation(boolean gelu) {
        this.gelu = gelu;
    }

    /** {@code gate[0..n) = act(gate) * up}, in place. */
    void apply(float[] gate, float[] up, int n) {
        this.gate = gate;
        this.up = up;
        this.n = n;
        try {
            // SLICE, or more per chunk past the pool's chunk limit
            slice = Math.max(SLICE, (n + ComputePool.MAX_CHUNKS - 1) / ComputePool.MAX_CHUNKS);
            int chunks = (n + slice - 1) / slice;
            if (chunks < 2) {
                for (int c = 0; c < chunks; c++) {
                    runChunk(c);
                }
            } else {
                ComputePool.shared().run(this, chunks);
            }
        } finally {
            this.gate = null;
            this.up = null;
        }
    }

    @Override
    public void runChunk(int chunk) {
        int end = (int) Math.min(n, (long) (chunk + 1) * slice);
        if (gelu) {
            for (int i = chunk * slice; i < end; i++) {
                gate[i] = Gelu.apply(gate[i]) * up[i];
            }
        } else {
            for (int i = chunk * slice; i < end; i++) {
                float g = gate[i];
                gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
            }
        }
    }
}
