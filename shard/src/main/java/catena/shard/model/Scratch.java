package catena.shard.model;

/** Activation buffers of one model slice, grown to the largest batch seen and then reused. */
final class Scratch {
    private final ModelConfig config;
    private final int maxQ;
    private final int maxKv;
    private final int maxFfn;
    private int rows;

    float[] xb = new float[0];
    /** Second [rows][dim] buffer (Gemma 4 MoE expert input). */
    float[] xb2 = new float[0];
    /** [rows][P]: Gemma 4 per-layer-embedding gate. */
    float[] pleGate = new float[0];
    float[] q = new float[0];
    float[] k = new float[0];
    float[] v = new float[0];
    float[] att = new float[0];
    float[] hb = new float[0];
    float[] hb2 = new float[0];
    int[] pos = new int[0];
    int[] seq = new int[0];
    final float[] cos;
    final float[] sin;
    float[] head;
    final int[] rowIndex = new int[1];

    Scratch(ModelConfig config, int from, int to) {
        this.config = config;
        int q = 0;
        int kv = 0;
        int ffn = 0;
        int rope = 0;
        for (int l = from; l < to; l++) {
            LayerSpec s = config.layer(l);
            q = Math.max(q, s.qDim());
            kv = Math.max(kv, s.kvDim());
            ffn = Math.max(ffn, s.ffnDim());
            rope = Math.max(rope, s.ropeDims());
        }
        this.maxQ = q;
        this.maxKv = kv;
        this.maxFfn = ffn;
        this.cos = new float[rope / 2 + 1];
        this.sin = new float[rope / 2 + 1];
        this.head = new float[config.dim()];
    }

    void ensure(int n) {
        if (n <= rows) {
            return;
        }
        int dim = config.dim();
        xb = new float[n * dim];
        xb2 = config.experts() > 0 ? new float[n * dim] : xb2;
        pleGate = new float[n * config.pleDim()];
        q = new float[n * maxQ];
        k = new float[n * maxKv];
        v = new float[n * maxKv];
        att = new float[n * maxQ];
        hb = new float[n * maxFfn];
        hb2 = new float[n * maxFfn];
        pos = new int[n];
        seq = new int[n];
        rows = n;
    }
}
