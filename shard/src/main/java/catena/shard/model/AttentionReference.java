package catena.shard.model;

import java.lang.foreign.MemorySegment;

/**
 * Plain-loop reference of {@link Attention} for each cache type, one query head at a time: the
 * spec the vector version is tested against (same roundings, sums in plain order).
 * <ul>
 * <li>f32: scores q·k x scale (soft-capped), softmax, weighted sum of values.</li>
 * <li>f16 (llama.cpp without flash attention): the query (scaled first on Gemma) rounded to f16;
 * probabilities rounded to f16 before the value sum.</li>
 * <li>q8_0 (llama.cpp's CPU flash attention): the query quantized to Q8_0; scores sum over blocks
 * of scale products times integer dots; online softmax over positions in order.</li>
 * </ul>
 */
final class AttentionReference {
    private AttentionReference() {
    }

    /** Head {@code h} of a row at position {@code p} over {@code cache}'s layer {@code l}, into out[outOff ..]. */
    static void head(ModelConfig config, KvType type, KvCache cache, int l, int p, float[] q, int qOff, int h,
                     float[] out, int outOff) {
        LayerSpec ls = config.layer(l);
        int hd = ls.headDim();
        int kvOff = (h / (ls.heads() / ls.kvHeads())) * hd;
        int start = ls.sliding() ? Math.max(0, p - ls.window() + 1) : 0;
        int n = p - start + 1;
        boolean preScaled = config.arch() != Arch.LLAMA && config.queryScale() != 1f;
        float pre = preScaled ? config.queryScale() : 1f;
        float scale = preScaled ? 1f : config.queryScale();
        float cap = config.attnSoftcap();
        float[] k = new float[hd];
        float[] v = new float[hd];
        if (type == KvType.Q8_0) {
            int blocks = hd / KvType.Q8_BLOCK;
            float[] qq = new float[hd];
            float[] qs = new float[blocks];
            float[] kq = new float[hd];
            float[] ks = new float[blocks];
            KvQuant.quantizeQ8(q, qOff, pre, hd, qq, 0, qs, 0);
            float m = Float.NEGATIVE_INFINITY;
            float sum = 0f;
            float[] acc = new float[hd];
            float sc = cap > 0f ? scale / cap : scale;
            for (int t = start; t <= p; t++) {
                MemorySegment kp = cache.keyPage(l, t);
                KvQuant.loadQ8(kp, KvCache.pageRow(t), ls.kvDim(), kvOff, hd, kq, 0, ks, 0);
                type.load(cache.valuePage(l, t), KvCache.pageRow(t), ls.kvDim(), kvOff, hd, v, 0);
                float s = KvQuant.dotQ8Scalar(qq, 0, qs, 0, kq, 0, ks, 0, blocks) * sc;
                if (cap > 0f) {
                    s = cap * (float) StrictMath.tanh(s);
                }
                float ms = 1f;
                float vs = 1f;
                if (s > m) {
                    ms = (float) Math.exp(m - s);
                    m = s;
                    for (int j = 0; j < hd; j++) {
                        acc[j] *= ms;
                    }
                } else {
                    vs = (float) Math.exp(s - m);
                }
                for (int j = 0; j < hd; j++) {
                    acc[j] += v[j] * vs;
                }
                sum = sum * ms + vs;
            }
            for (int j = 0; j < hd; j++) {
                out[outOff + j] = acc[j] / sum;
            }
            return;
        }
        float[] qh = new float[hd];
        for (int j = 0; j < hd; j++) {
            qh[j] = type == KvType.F16 ? Float.float16ToFloat(Float.floatToFloat16(q[qOff + j] * pre)) : q[qOff + j];
        }
        float sc = type == KvType.F16 ? scale : config.queryScale();
        float[] w = new float[n];
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            type.load(cache.keyPage(l, start + t), KvCache.pageRow(start + t), ls.kvDim(), kvOff, hd, k, 0);
            float s = 0f;
            for (int j = 0; j < hd; j++) {
                s += qh[j] * k[j];
            }
            s *= sc;
            if (cap > 0f) {
                s = cap * (float) StrictMath.tanh(s / cap);
            }
            w[t] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int t = 0; t < n; t++) {
            w[t] = (float) Math.exp(w[t] - max);
            sum += w[t];
        }
        java.util.Arrays.fill(out, outOff, outOff + hd, 0f);
        float inv = 1f / sum;
        for (int t = 0; t < n; t++) {
            float x = w[t] * inv;
            if (type == KvType.F16) {
                x = Float.float16ToFloat(Float.floatToFloat16(x));
            }
            type.load(cache.valuePage(l, start + t), KvCache.pageRow(start + t), ls.kvDim(), kvOff, hd, v, 0);
            for (int j = 0; j < hd; j++) {
                out[outOff + j] += x * v[j];
            }
        }
    }
}
