package catena.shard.model;

import catena.shard.kernel.ComputePool;
import catena.shard.kernel.VectorOps;

/**
 * Causal (and for local layers, windowed) attention of every row's query heads over its sequence's
 * cache, one (row, head) pair per pool chunk (several past the pool's chunk limit). Run on the pool because it sits between two matmuls:
 * done on the calling thread alone, the other core idled (measured: 1.6 ms of a 54 ms decode step
 * of the Gemma-3-1B shape), and the following projection then paid the worker's wake-up
 * (its time doubled, 1.6 -> 3.1 ms per token). Each pair is computed the same way on any thread, so
 * results do not depend on the split.
 *
 * <p>One instance per model slice; {@link #run} calls are serialized by {@link Model#forward}.
 */
final class Attention implements ComputePool.ChunkTask {
    /** Below this many (row, head, position) steps, the calling thread does it alone. */
    private static final int INLINE_STEPS = 256;

    private final ModelConfig config;
    private final ThreadLocal<float[]> scores;
    private int layer;
    private LayerSpec ls;
    private Batch batch;
    private int[] pos;
    private int[] seq;
    private float[] q;
    private float[] att;
    /** (row, head) pairs in this run, and per pool chunk (more than one only past the pool's chunk limit). */
    private int pairs;
    private int pairsPerChunk;

    Attention(ModelConfig config) {
        this.config = config;
        this.scores = ThreadLocal.withInitial(() -> new float[256]);
    }

    /** Attention of {@code rows} rows (positions {@code pos}, sequences {@code seq} of {@code batch}) into {@code att}. */
    void run(int l, LayerSpec ls, Batch batch, int rows, int[] pos, int[] seq, float[] q, float[] att) {
        this.layer = l;
        this.ls = ls;
        this.batch = batch;
        this.pos = pos;
        this.seq = seq;
        this.q = q;
        this.att = att;
        try {
            pairs = rows * ls.heads();
            long steps = 0;
            for (int r = 0; r < rows && steps < INLINE_STEPS; r++) {
                steps += (long) span(pos[r]) * ls.heads();
            }
            if (steps < INLINE_STEPS) {
                for (int i = 0; i < pairs; i++) {
                    pair(i);
                }
            } else {
                pairsPerChunk = (pairs + ComputePool.MAX_CHUNKS - 1) / ComputePool.MAX_CHUNKS;
                ComputePool.shared().run(this, (pairs + pairsPerChunk - 1) / pairsPerChunk);
            }
        } finally {
            this.batch = null;
            this.q = null;
            this.att = null;
        }
    }

    /** Cache positions row position {@code p} attends to (its window on sliding layers). */
    private int span(int p) {
        int start = ls.sliding() ? Math.max(0, p - ls.window() + 1) : 0;
        return p - start + 1;
    }

    @Override
    public void runChunk(int chunk) {
        for (int i = chunk * pairsPerChunk; i < Math.min(pairs, (chunk + 1) * pairsPerChunk); i++) {
            pair(i);
        }
    }

    /** Query head {@code i % heads} of row {@code i / heads}. */
    private void pair(int i) {
        int r = i / ls.heads();
        int h = i % ls.heads();
        int hd = ls.headDim();
        int group = ls.heads() / ls.kvHeads();
        float scale = config.queryScale();
        float cap = config.attnSoftcap();
        KvCache c = batch.cache(seq[r]);
        float[] keys = c.keys(layer);
        float[] values = c.values(layer);
        int p = pos[r];
        int n = span(p);
        int start = p - n + 1;
        float[] sc = scores.get();
        if (sc.length < n) {
            // grows with the longest context seen on this thread; no allocation once it covers it
            sc = new float[Math.max(n, 2 * sc.length)];
            scores.set(sc);
        }
        int qOff = r * ls.qDim() + h * hd;
        int kvOff = (h / group) * hd;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            float s = VectorOps.dot(q, qOff, keys, c.offset(layer, start + t) + kvOff, hd) * scale;
            if (cap > 0f) {
                s = cap * (float) StrictMath.tanh(s / cap);
            }
            sc[t] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int t = 0; t < n; t++) {
            sc[t] = (float) Math.exp(sc[t] - max);
            sum += sc[t];
        }
        int outOff = r * ls.qDim() + h * hd;
        java.util.Arrays.fill(att, outOff, outOff + hd, 0f);
        float inv = 1f / sum;
        for (int t = 0; t < n; t++) {
            VectorOps.axpy(sc[t] * inv, values, c.offset(layer, start + t) + kvOff, att, outOff, hd);
        }
    }
}
