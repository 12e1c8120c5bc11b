package catena.shard.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0 quantization exactly as llama.cpp's {@code quantize_row_q4_0_ref}: per block of 32, the
 * element of largest magnitude (the first, on ties) keeps its sign in {@code max},
 * {@code d = max / -8}, {@code q = min(15, (int8)(x/d + 8.5))}, d stored as f16; byte j of the
 * block's 16 holds element j in its low nibble and element j+16 in its high one. Byte-identical
 * output is what makes our GGUFs interchangeable with llama.cpp's (QuantizerTest).
 */
public final class Q4_0 {
    public static final int BLOCK = 32;
    /** Bytes of one GGUF Q4_0 block: the f16 scale and 16 bytes of nibbles. */
    public static final int BLOCK_BYTES = 18;

    private Q4_0() {
    }

    /** Quantizes {@code n} floats (a multiple of 32) from {@code x[off..]} into {@code dst} at byte {@code dstOff}. */
    public static void quantize(float[] x, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / BLOCK; b++) {
            int base = off + b * BLOCK;
            float amax = 0f;
            float max = 0f;
            for (int i = 0; i < BLOCK; i++) {
                float v = x[base + i];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0.0f;
            long blk = dstOff + (long) b * BLOCK_BYTES;
            dst.set(Q8Matrix.F16, blk, Float.floatToFloat16(d));
            for (int j = 0; j < BLOCK / 2; j++) {
                int lo = Math.min(15, toInt8(x[base + j] * id + 8.5f));
                int hi = Math.min(15, toInt8(x[base + j + BLOCK / 2] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, blk + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    /** C's {@code (int8_t) v} for the values that occur here (truncation toward zero). */
    private static int toInt8(float v) {
        return (byte) (int) v;
    }
}
