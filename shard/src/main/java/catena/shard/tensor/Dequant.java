package catena.shard.tensor;

import catena.shard.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Decoding of the stored element types into floats (GEMMA_SPEC.md §2). */
public final class Dequant {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequant() {
    }

    /** Decodes {@code n} elements of {@code type} starting at byte {@code src} of {@code seg} into {@code out[off..]}. */
    public static void decode(GgmlType type, MemorySegment seg, long src, float[] out, int off, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(seg, F32Matrix.F32, src, out, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[off + i] = Float.float16ToFloat(seg.get(I16, src + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[off + i] = Float.intBitsToFloat((seg.get(I16, src + 2L * i) & 0xFFFF) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = src + 34L * b;
                    float d = Float.float16ToFloat(seg.get(I16, blk));
                    for (int i = 0; i < 32; i++) {
                        out[off + 32 * b + i] = d * seg.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long blk = src + 18L * b;
                    float d = Float.float16ToFloat(seg.get(I16, blk));
                    for (int j = 0; j < 16; j++) {
                        int q = seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j) & 0xFF;
                        out[off + 32 * b + j] = ((q & 0x0F) - 8) * d;
                        out[off + 32 * b + j + 16] = ((q >> 4) - 8) * d;
                    }
                }
            }
            default -> throw new IllegalArgumentException("tensor type " + type + " is not supported");
        }
    }
}
