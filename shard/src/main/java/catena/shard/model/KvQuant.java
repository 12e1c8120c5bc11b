package catena.shard.model;

import catena.shard.kernel.KvRows;
import catena.shard.kernel.VectorOps;
import java.lang.foreign.MemorySegment;

/**
 * The Q8_0 arithmetic of llama.cpp's flash attention with a Q8_0 K cache: the query quantized
 * to Q8_0 like the cache ({@link KvType}), and block dot products of integer quants times the
 * product of the two f16 scales. Quants travel as floats: they are integers of at most 127 in
 * magnitude, so a block's 32 products and their sum are exact in f32 whatever the order, and
 * the vector sum equals the integer sum ggml computes.
 */
final class KvQuant {
    private KvQuant() {
    }

    /**
     * Quantizes {@code src[off .. off+n) * pre} to Q8_0: quants into {@code q[qOff ..]}, the f16
     * scales (as floats) into {@code scales[sOff ..]} (n a multiple of 32).
     */
    static void quantizeQ8(float[] src, int off, float pre, int n, float[] q, int qOff, float[] scales, int sOff) {
        for (int b = 0; b < n / KvType.Q8_BLOCK; b++) {
            int o = b * KvType.Q8_BLOCK;
            float amax = 0f;
            for (int i = 0; i < KvType.Q8_BLOCK; i++) {
                amax = Math.max(amax, Math.abs(src[off + o + i] * pre));
            }
            float id = amax != 0f ? 127f / amax : 0f;
            scales[sOff + b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            for (int i = 0; i < KvType.Q8_BLOCK; i++) {
                q[qOff + o + i] = (float) Math.rint(src[off + o + i] * pre * id);
            }
        }
    }

    /** Reads values [from, from+n) of a Q8_0 page row: quants as floats and the blocks' scales. */
    static void loadQ8(MemorySegment page, int row, int kvDim, int from, int n, float[] q, int qOff,
                       float[] scales, int sOff) {
        KvRows.bytesToFloats(page, (long) row * kvDim + from, q, qOff, n);
        long s = KvType.q8ScaleBase(kvDim) + 2L * ((long) row * (kvDim / KvType.Q8_BLOCK) + from / KvType.Q8_BLOCK);
        for (int b = 0; b < n / KvType.Q8_BLOCK; b++) {
            scales[sOff + b] = Float.float16ToFloat(page.get(KvType.SHORT, s + 2L * b));
        }
    }

    /** {@code sum over blocks b of (as[b] * bs[b]) * (integer dot of the b-th 32 quants)}. */
    static float dotQ8(float[] aq, int aOff, float[] as, int asOff, float[] bq, int bOff, float[] bs, int bsOff,
                       int blocks) {
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            int o = b * KvType.Q8_BLOCK;
            float block = VectorOps.dot(aq, aOff + o, bq, bOff + o, KvType.Q8_BLOCK);
            sum = Math.fma(as[asOff + b] * bs[bsOff + b], block, sum);
        }
        return sum;
    }

    /** Plain-loop reference of {@link #dotQ8}: integer block sums (the spec). */
    static float dotQ8Scalar(float[] aq, int aOff, float[] as, int asOff, float[] bq, int bOff, float[] bs, int bsOff,
                             int blocks) {
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            int isum = 0;
            for (int i = 0; i < KvType.Q8_BLOCK; i++) {
                isum += (int) aq[aOff + b * KvType.Q8_BLOCK + i] * (int) bq[bOff + b * KvType.Q8_BLOCK + i];
            }
            sum = Math.fma(as[asOff + b] * bs[bsOff + b], (float) isum, sum);
        }
        return sum;
    }
}
