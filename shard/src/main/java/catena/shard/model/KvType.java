package catena.shard.model;

import catena.shard.kernel.KvRows;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * How a KV cache stores its keys and values: {@code F32}; {@code F16} (IEEE half, as llama.cpp's
 * {@code -ctk f16 -ctv f16}); {@code Q8_0} (llama.cpp's block quantization: per 32 values an f16
 * scale {@code d = amax/127} and 32 int8 quants {@code round(x * 127/amax)}, ties to even, as
 * ggml's x86 {@code quantize_row_q8_0}).
 *
 * <p>A page holds {@link KvPool#PAGE_TOKENS} rows of one layer's keys (or values), a row being
 * the {@code kvDim} values of one position. F32 and F16 pages are those rows one after another.
 * A Q8_0 page keeps all its int8 quants first ({@code PAGE_TOKENS * kvDim} bytes, row after row)
 * and then the f16 scales ({@code PAGE_TOKENS * kvDim/32} of them, row after row): the same 34
 * bytes per 32 values as ggml's {@code block_q8_0}, laid out so quants load as whole vectors.
 * Everything little-endian.
 */
public enum KvType {
    F32,
    F16,
    Q8_0;

    /** Values per Q8_0 block. */
    public static final int Q8_BLOCK = 32;

    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Parses {@code --kv-type}: f32, f16 or q8_0 (any case). */
    public static KvType parse(String value) {
        return switch (value == null ? "" : value.toLowerCase(Locale.ROOT)) {
            case "f32" -> F32;
            case "f16" -> F16;
            case "q8_0" -> Q8_0;
            default -> throw new IllegalArgumentException("--kv-type=" + value + ", expected f32, f16 or q8_0");
        };
    }

    /** The name the flag takes ({@code f32}, {@code f16}, {@code q8_0}). */
    public String flag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Bytes of one row of {@code kvDim} values. */
    public long rowBytes(int kvDim) {
        return switch (this) {
            case F32 -> 4L * kvDim;
            case F16 -> 2L * kvDim;
            case Q8_0 -> (long) kvDim / Q8_BLOCK * (Q8_BLOCK + 2);
        };
    }

    /** Bytes of one page of rows of {@code kvDim} values. */
    public long pageBytes(int kvDim) {
        return KvPool.PAGE_TOKENS * rowBytes(kvDim);
    }

    /**
     * Refuses a layer whose heads this type cannot store: Q8_0 blocks must not straddle heads
     * (llama.cpp has the same limit), so the head size must be a multiple of 32.
     */
    void requireFits(int layer, int headDim) {
        if (this == Q8_0 && headDim % Q8_BLOCK != 0) {
            throw new IllegalArgumentException("--kv-type=q8_0: layer " + layer + " has headDim=" + headDim
                    + ", expected a multiple of " + Q8_BLOCK + " (a Q8_0 block must lie within one head)");
        }
    }

    /** Writes {@code src[srcOff .. srcOff+kvDim)} as row {@code row} of {@code page}. */
    void store(MemorySegment page, int row, int kvDim, float[] src, int srcOff) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, srcOff, page, FLOAT, 4L * row * kvDim, kvDim);
            case F16 -> {
                long at = 2L * row * kvDim;
                for (int i = 0; i < kvDim; i++) {
                    page.set(SHORT, at + 2L * i, Float.floatToFloat16(src[srcOff + i]));
                }
            }
            case Q8_0 -> {
                long quants = (long) row * kvDim;
                long scales = q8ScaleBase(kvDim) + 2L * row * (kvDim / Q8_BLOCK);
                for (int b = 0; b < kvDim / Q8_BLOCK; b++) {
                    int o = srcOff + b * Q8_BLOCK;
                    float amax = 0f;
                    for (int i = 0; i < Q8_BLOCK; i++) {
                        amax = Math.max(amax, Math.abs(src[o + i]));
                    }
                    // ggml's x86 quantize_row_q8_0: d = amax/127 stored as f16, quants from
                    // x * (127/amax) rounded to nearest even (not x / d)
                    float id = amax != 0f ? 127f / amax : 0f;
                    page.set(SHORT, scales + 2L * b, Float.floatToFloat16(amax / 127f));
                    for (int i = 0; i < Q8_BLOCK; i++) {
                        page.set(ValueLayout.JAVA_BYTE, quants + b * Q8_BLOCK + i, (byte) Math.rint(src[o + i] * id));
                    }
                }
            }
        }
    }

    /**
     * Reads values {@code [from, from+n)} of row {@code row} as floats into {@code dst} (Q8_0:
     * quant times scale, each rounded to float as ggml's dequantize does; from and n whole blocks).
     */
    void load(MemorySegment page, int row, int kvDim, int from, int n, float[] dst, int dstOff) {
        switch (this) {
            case F32 -> MemorySegment.copy(page, FLOAT, 4L * ((long) row * kvDim + from), dst, dstOff, n);
            case F16 -> KvRows.halvesToFloats(page, 2L * ((long) row * kvDim + from), dst, dstOff, n);
            case Q8_0 -> {
                long quants = (long) row * kvDim + from;
                long scales = q8ScaleBase(kvDim) + 2L * ((long) row * (kvDim / Q8_BLOCK) + from / Q8_BLOCK);
                KvRows.bytesToFloats(page, quants, dst, dstOff, n);
                for (int b = 0; b < n / Q8_BLOCK; b++) {
                    KvRows.scale(dst, dstOff + b * Q8_BLOCK, Q8_BLOCK, Float.float16ToFloat(page.get(SHORT, scales + 2L * b)));
                }
            }
        }
    }

    /** Byte offset of a Q8_0 page's scales (after its quants). */
    static long q8ScaleBase(int kvDim) {
        return (long) KvPool.PAGE_TOKENS * kvDim;
    }
}
