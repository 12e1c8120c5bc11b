package catena.shard.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widening of KV-cache rows to floats: IEEE halves (f16 caches) and int8 quants (Q8_0 caches),
 * read from off-heap pages. Each vector method has its plain-loop reference ({@code ...Scalar})
 * beside it, with identical results (the conversions are exact).
 */
public final class KvRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Halves per float vector: the same lane count at half the width (null: no such shape, scalar). */
    private static final VectorSpecies<Short> S = F.vectorBitSize() / 2 < 64 ? null
            : ShortVector.SPECIES_PREFERRED.withShape(jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** Bytes per float vector: a quarter of the width (null below 64 bits: 128-bit floats widen in the tail). */
    private static final VectorSpecies<Byte> B = F.vectorBitSize() / 4 < 64 ? null
            : ByteVector.SPECIES_PREFERRED.withShape(jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 4));
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;

    private KvRows() {
    }

    /** {@code dst[off+i] = half at byte offset at + 2i of page}, i in [0, n). */
    public static void halvesToFloats(MemorySegment page, long at, float[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        int lanes = F.length();
        int i = 0;
        if (S != null) {
            for (; i <= n - lanes; i += lanes) {
                // exact conversion without an f16 instruction: exponent and mantissa moved into a
                // float's place and scaled by 2^112 (normals and subnormals alike), infinities
                // and NaNs rebuilt with an all-ones exponent, the sign put back
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S, page, at + 2L * i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, I, 0);
                IntVector mag = h.and(0x7FFF);
                IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
                FloatVector finite = mag.lanewise(VectorOperators.LSHL, 13)
                        .reinterpretAsFloats().mul(0x1p112f);
                IntVector inf = mag.lanewise(VectorOperators.LSHL, 13).or(0x7F800000);
                VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7C00);
                VectorMask<Integer> nan = mag.compare(VectorOperators.GT, 0x7C00);
                IntVector bits = finite.reinterpretAsInts()
                        .blend(inf, special)
                        .blend(inf.or(0x00400000), nan) // NaNs come out quiet, as Float.float16ToFloat makes them
                        .or(sign);
                bits.reinterpretAsFloats().intoArray(dst, off + i);
            }
        }
        for (; i < n; i++) {
            dst[off + i] = Float.float16ToFloat(page.get(HALF, at + 2L * i));
        }
    }

    /** Plain-loop reference of {@link #halvesToFloats}. */
    public static void halvesToFloatsScalar(MemorySegment page, long at, float[] dst, int off, int n) {
        for (int i = 0; i < n; i++) {
            dst[off + i] = Float.float16ToFloat(page.get(HALF, at + 2L * i));
        }
    }

    /** {@code dst[off+i] = (float) byte at at + i of page}, i in [0, n). */
    public static void bytesToFloats(MemorySegment page, long at, float[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        int lanes = F.length();
        int i = 0;
        if (B != null) {
            for (; i <= n - lanes; i += lanes) {
                ((FloatVector) ByteVector.fromMemorySegment(B, page, at + i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F, 0)).intoArray(dst, off + i);
            }
        }
        for (; i < n; i++) {
            dst[off + i] = page.get(ValueLayout.JAVA_BYTE, at + i);
        }
    }

    /** Plain-loop reference of {@link #bytesToFloats}. */
    public static void bytesToFloatsScalar(MemorySegment page, long at, float[] dst, int off, int n) {
        for (int i = 0; i < n; i++) {
            dst[off + i] = page.get(ValueLayout.JAVA_BYTE, at + i);
        }
    }

    /** {@code x[off .. off+n) *= scale}: a dequantized block (quant x scale, each rounded to float). */
    public static void scale(float[] x, int off, int n, float scale) {
        int lanes = F.length();
        int i = 0;
        for (; i <= n - lanes; i += lanes) {
            FloatVector.fromArray(F, x, off + i).mul(scale).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= scale;
        }
    }
}
