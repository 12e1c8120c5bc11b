package catena.shard.model;

import catena.shard.kernel.ComputePool;
import catena.shard.kernel.VectorOps;

/**
 * Causal (and for local layers, windowed) attention of every row's query heads over its sequence's
 * cache. A unit of work is one row's query heads that share a KV head (grouped-query attention):
 * each cached key and value is loaded once for all of them instead of once per head. Units are
 * split into fewer heads only when there would otherwise be fewer units than threads (one
 * sequence on a model with one KV head). One or more units per pool chunk.
 *
 * <p>Run on the pool because it sits between two matmuls: done on the calling thread alone, the
 * other core idled (measured: 1.6 ms of a 54 ms decode step of the Gemma-3-1B shape), and the
 * following projection then paid the worker's wake-up (its time doubled, 1.6 -> 3.1 ms per
 * token). Each head is computed the same way in any unit and on any thread, so results depend
 * neither on the split nor on the batch.
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
    /** Query heads per unit (a divisor of the GQA group), units in this run, and per pool chunk. */
    private int sub;
    private int units;
    private int unitsPerChunk;
    /** Per thread: one position's weights of the unit's heads, then their softmax normalizers. */
    private final ThreadLocal<float[]> weights = ThreadLocal.withInitial(() -> new float[8]);

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
            int group = ls.heads() / ls.kvHeads();
            int threads = ComputePool.shared().threads();
            sub = group;
            while (sub % 2 == 0 && (long) rows * ls.heads() / sub < threads) {
                sub /= 2;
            }
            units = rows * (ls.heads() / sub);
            long steps = 0;
            for (int r = 0; r < rows && steps < INLINE_STEPS; r++) {
                steps += (long) span(pos[r]) * ls.heads();
            }
            if (steps < INLINE_STEPS) {
                for (int i = 0; i < units; i++) {
                    unit(i);
                }
            } else {
                unitsPerChunk = (units + ComputePool.MAX_CHUNKS - 1) / ComputePool.MAX_CHUNKS;
                ComputePool.shared().run(this, (units + unitsPerChunk - 1) / unitsPerChunk);
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
        for (int i = chunk * unitsPerChunk; i < Math.min(units, (chunk + 1) * unitsPerChunk); i++) {
            unit(i);
        }
    }

    /**
     * Query heads [h0, h0 + sub) of row r (unit i = r * heads/sub + h0/sub), which share KV head
     * h0 / group. Per head the arithmetic is that of one head alone (VectorOps' grouped dot and
     * axpy sum exactly as the single ones do), so results do not depend on how heads are grouped.
     */
    private void unit(int i) {
        int perRow = ls.heads() / sub;
        int r = i / perRow;
        int h0 = (i % perRow) * sub;
        int hd = ls.headDim();
        int group = ls.heads() / ls.kvHeads();
        float scale = config.queryScale();
        float cap = config.attnSoftcap();
        KvCache c = batch.cache(seq[r]);
        int p = pos[r];
        int n = span(p);
        int start = p - n + 1;
        float[] sc = scores.get();
        if (sc.length < sub * n) {
            // grows with the longest context seen on this thread; no allocation once it covers it
            sc = new float[Math.max(sub * n, 2 * sc.length)];
            scores.set(sc);
        }
        float[] w = weights.get();
        if (w.length < 2 * sub) {
            w = new float[2 * sub];
            weights.set(w);
        }
        int qOff = r * ls.qDim() + h0 * hd;
        int kvOff = (h0 / group) * hd;
        int kvDim = ls.kvDim();
        // scores position by position, all heads at once: sc[t*sub + h]; the page is looked up
        // once per page, then rows follow each other in it
        float[] keys = null;
        int k = 0;
        for (int t = 0; t < n; t++) {
            int at = start + t;
            if (keys == null || KvCache.pageStart(at)) {
                keys = c.keyPage(layer, at);
                k = c.pageOffset(layer, at) + kvOff;
            } else {
                k += kvDim;
            }
            int h = 0;
            for (; h + 4 <= sub; h += 4) {
                VectorOps.dot4(q, qOff + h * hd, hd, keys, k, hd, sc, t * sub + h);
            }
            for (; h + 2 <= sub; h += 2) {
                VectorOps.dot2(q, qOff + h * hd, hd, keys, k, hd, sc, t * sub + h);
            }
            for (; h < sub; h++) {
                sc[t * sub + h] = VectorOps.dot(q, qOff + h * hd, keys, k, hd);
            }
        }
        // softmax per head, over its scores in position order (w[sub + h] = 1 / sum)
        for (int h = 0; h < sub; h++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                float s = sc[t * sub + h] * scale;
                if (cap > 0f) {
                    s = cap * (float) StrictMath.tanh(s / cap);
                }
                sc[t * sub + h] = s;
                max = Math.max(max, s);
            }
            float sum = 0f;
            for (int t = 0; t < n; t++) {
                float e = (float) Math.exp(sc[t * sub + h] - max);
                sc[t * sub + h] = e;
                sum += e;
            }
            w[sub + h] = 1f / sum;
        }
        int outOff = r * ls.qDim() + h0 * hd;
        java.util.Arrays.fill(att, outOff, outOff + sub * hd, 0f);
        float[] values = null;
        int v = 0;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < sub; h++) {
                w[h] = sc[t * sub + h] * w[sub + h];
            }
            int at = start + t;
            if (values == null || KvCache.pageStart(at)) {
                values = c.valuePage(layer, at);
                v = c.pageOffset(layer, at) + kvOff;
            } else {
                v += kvDim;
            }
            int h = 0;
            for (; h + 4 <= sub; h += 4) {
                VectorOps.axpyN(w, h, 4, values, v, att, outOff + h * hd, hd, hd);
            }
            if (h < sub) {
                VectorOps.axpyN(w, h, sub - h, values, v, att, outOff + h * hd, hd, hd);
            }
        }
    }
}
