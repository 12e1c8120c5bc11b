package catena.shard.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q8_0 quantization exactly as llama.cpp's {@code quantize_row_q8_0_ref}: per block of 32,
 * {@code d = amax/127}, {@code q = roundf(x/d)} (half away from zero), d stored as f16 (round to
 * nearest even). Byte-identical output is what makes our GGUFs interchangeable with llama.cpp's.
 */
public final class Q8_0 {
    private Q8_0() {
    }

    /** Quantizes {@code n} floats (a multiple of 32) from {@code x[off..]} into {@code dst} at byte {@code dstOff}. */
    public static void quantize(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / Q8Matrix.BLOCK; b++) {
            int base = off + b * Q8Matrix.BLOCK;
            float amax = 0f;
            for (int i = 0; i < Q8Matrix.BLOCK; i++) {
                amax = Math.max(amax, Math.abs(x[base + i]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1.0f / d : 0.0f;
            long blk = dstOff + (long) b * Q8Matrix.BLOCK_BYTES;
            dst.set(Q8Matrix.F16, blk, Float.floatToFloat16(d));
            for (int i = 0; i < Q8Matrix.BLOCK; i++) {
                dst.set(ValueLayout.JAVA_BYTE, blk + 2 + i, (byte) roundf(x[base + i] * id));
            }
        }
    }

    /** C's roundf: halfway cases away from zero (Math.round rounds them up). */
    public static int roundf(float v) {
        int r = Math.round(Math.abs(v));
        return v < 0 ? -r : r;
    }
}
