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
    private final KvType type;
    /** llama.cpp scales Gemma's queries before attention (kq_scale 1): rounding to f16/q8_0 sees the scaled query. */
    private final boolean preScaled;
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

    /** Per thread: one dequantized key row, one value row, a row's Q8_0 scales, the rounded queries and their scales. */
    private final ThreadLocal<Rows> rows = ThreadLocal.withInitial(Rows::new);

    private static final class Rows {
        float[] k = new float[0];
        float[] v = new float[0];
        float[] kScale = new float[0];
        float[] q = new float[0];
        float[] qScale = new float[0];
        float[] max = new float[0];
        float[] sum = new float[0];

        void ensure(int hd, int sub) {
            if (k.length < hd || q.length < sub * hd) {
                k = new float[hd];
                v = new float[hd];
                kScale = new float[hd / KvType.Q8_BLOCK + 1];
                q = new float[sub * hd];
                qScale = new float[sub * hd / KvType.Q8_BLOCK + 1];
                max = new float[sub];
                sum = new float[sub];
            }
        }
    }

    Attention(ModelConfig config, KvType type) {
        this.config = config;
        this.type = type;
        this.preScaled = config.arch() != Arch.LLAMA && config.queryScale() != 1f;
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
        KvCache c = batch.cache(seq[r]);
        int p = pos[r];
        int n = span(p);
        int start = p - n + 1;
        int qOff = r * ls.qDim() + h0 * hd;
        int kvOff = (h0 / group) * hd;
        int outOff = r * ls.qDim() + h0 * hd;
        Rows b = rows.get();
        b.ensure(hd, sub);
        switch (type) {
            case F32 -> softmaxUnit(c, b, q, qOff, config.queryScale(), start, n, kvOff, outOff, false);
            case F16 -> {
                // llama.cpp without flash attention: Q (scaled first on Gemma) rounded to f16 for
                // the f16 K dot, probabilities rounded to f16 for the f16 V product, f32 sums
                float pre = preScaled ? config.queryScale() : 1f;
                for (int j = 0; j < sub * hd; j++) {
                    b.q[j] = Float.float16ToFloat(Float.floatToFloat16(q[qOff + j] * pre));
                }
                softmaxUnit(c, b, b.q, 0, preScaled ? 1f : config.queryScale(), start, n, kvOff, outOff, true);
            }
            case Q8_0 -> q8Unit(c, b, qOff, start, n, kvOff, outOff);
        }
    }

    /**
     * Scores of every position, one softmax per head, then the weighted sum of values (llama.cpp's
     * attention without flash attention). {@code roundWeights}: the probabilities are rounded to
     * f16 before the values are summed (ggml converts them to the f16 V's dot type).
     */
    private void softmaxUnit(KvCache c, Rows b, float[] qs, int qOff, float scale, int start, int n, int kvOff,
                             int outOff, boolean roundWeights) {
        int hd = ls.headDim();
        int kvDim = ls.kvDim();
        float cap = config.attnSoftcap();
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
        // scores position by position, all heads at once: sc[t*sub + h]; the page is looked up
        // once per page, then rows follow each other in it
        java.lang.foreign.MemorySegment keys = null;
        float[] k = b.k;
        for (int t = 0; t < n; t++) {
            int at = start + t;
            if (keys == null || KvCache.pageStart(at)) {
                keys = c.keyPage(layer, at);
            }
            type.load(keys, KvCache.pageRow(at), kvDim, kvOff, hd, k, 0);
            int h = 0;
            for (; h + 4 <= sub; h += 4) {
                VectorOps.dot4(qs, qOff + h * hd, hd, k, 0, hd, sc, t * sub + h);
            }
            for (; h + 2 <= sub; h += 2) {
                VectorOps.dot2(qs, qOff + h * hd, hd, k, 0, hd, sc, t * sub + h);
            }
            for (; h < sub; h++) {
                sc[t * sub + h] = VectorOps.dot(qs, qOff + h * hd, k, 0, hd);
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
        java.util.Arrays.fill(att, outOff, outOff + sub * hd, 0f);
        java.lang.foreign.MemorySegment values = null;
        float[] v = b.v;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < sub; h++) {
                float x = sc[t * sub + h] * w[sub + h];
                w[h] = roundWeights ? Float.float16ToFloat(Float.floatToFloat16(x)) : x;
            }
            int at = start + t;
            if (values == null || KvCache.pageStart(at)) {
                values = c.valuePage(layer, at);
            }
            type.load(values, KvCache.pageRow(at), kvDim, kvOff, hd, v, 0);
            int h = 0;
            for (; h + 4 <= sub; h += 4) {
                VectorOps.axpyN(w, h, 4, v, 0, att, outOff + h * hd, hd, hd);
            }
            if (h < sub) {
                VectorOps.axpyN(w, h, sub - h, v, 0, att, outOff + h * hd, hd, hd);
            }
        }
    }

    /**
     * llama.cpp's flash attention on the CPU with a Q8_0 cache: each head's query (scaled first
     * on Gemma) quantized to Q8_0; per position the score sum over blocks of (key scale x query
     * scale) x the integer dot of their quants; an online softmax (running maximum M and sum S,
     * the accumulated values rescaled by exp(Mold - M) when the maximum rises, each value row
     * dequantized to f32 and added times exp(s - M)); the sum divided by S at the end.
     */
    private void q8Unit(KvCache c, Rows b, int qOff, int start, int n, int kvOff, int outOff) {
        int hd = ls.headDim();
        int kvDim = ls.kvDim();
        int blocks = hd / KvType.Q8_BLOCK;
        float pre = preScaled ? config.queryScale() : 1f;
        float cap = config.attnSoftcap();
        float scale = preScaled ? 1f : config.queryScale();
        if (cap > 0f) {
            scale /= cap;
        }
        for (int h = 0; h < sub; h++) {
            KvQuant.quantizeQ8(q, qOff + h * hd, pre, hd, b.q, h * hd, b.qScale, h * blocks);
            b.max[h] = Float.NEGATIVE_INFINITY;
            b.sum[h] = 0f;
        }
        java.util.Arrays.fill(att, outOff, outOff + sub * hd, 0f);
        java.lang.foreign.MemorySegment keys = null;
        java.lang.foreign.MemorySegment values = null;
        for (int t = 0; t < n; t++) {
            int at = start + t;
            if (keys == null || KvCache.pageStart(at)) {
                keys = c.keyPage(layer, at);
                values = c.valuePage(layer, at);
            }
            int row = KvCache.pageRow(at);
            KvQuant.loadQ8(keys, row, kvDim, kvOff, hd, b.k, 0, b.kScale, 0);
            type.load(values, row, kvDim, kvOff, hd, b.v, 0);
            for (int h = 0; h < sub; h++) {
                float s = KvQuant.dotQ8(b.q, h * hd, b.qScale, h * blocks, b.k, 0, b.kScale, 0, blocks) * scale;
                if (cap > 0f) {
                    s = cap * (float) StrictMath.tanh(s);
                }
                float ms = 1f;
                float vs = 1f;
                int o = outOff + h * hd;
                if (s > b.max[h]) {
                    float old = b.max[h];
                    b.max[h] = s;
                    ms = (float) Math.exp(old - s);
                    for (int j = 0; j < hd; j++) {
                        att[o + j] *= ms;
                    }
                } else {
                    vs = (float) Math.exp(s - b.max[h]);
                }
                VectorOps.axpy(vs, b.v, 0, att, o, hd);
                b.sum[h] = b.sum[h] * ms + vs;
            }
        }
        for (int h = 0; h < sub; h++) {
            float inv = b.sum[h] == 0f ? 0f : 1f / b.sum[h];
            int o = outOff + h * hd;
            for (int j = 0; j < hd; j++) {
                att[o + j] *= inv;
            }
        }
    }
}
