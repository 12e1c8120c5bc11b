package catena.shard.kernel;

import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Q4_0 decode loop of RESULTS.md's "third attempt", kept to re-measure (not an engine kernel):
 * activations quantized per 32-block to int8 as ggml's {@code quantize_row_q8_0} does, held as
 * shorts in the nibble order (elements j and j+16 of a block side by side) with
 * {@code c = -8 (x_j + x_j+16)} precomputed, so that {@code lo*x_lo + hi*x_hi + c} in int16 lanes is
 * exactly the block's pair sums of {@code (n - 8) x}; then per block one conversion to f32 and one
 * FMA by {@code d_w * d_x}. Two weight rows per step (four exceed C2's node budget and box).
 * Assumes 512-bit vectors and an even block count per row.
 *
 * <p>The nibble step is written out in every loop on purpose: the figures in RESULTS.md were
 * measured so, and a shared helper is exactly what C2 declined to inline in the four-row form
 * (every vector boxed).
 */
final class Q4Int8ActProbe {
    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Per block: x_lo[16], x_hi[16], c[16] (48 shorts). */
    final short[] xs;
    /** Per block pair: x_lo[32], x_hi[32], c[32] (the two blocks' lanes side by side). */
    final short[] xp;
    final float[] dx;
    final int cols;

    Q4Int8ActProbe(float[] x) {
        cols = x.length;
        int nb = cols / 32;
        xs = new short[nb * 48];
        xp = new short[nb * 48];
        dx = new float[nb];
        int[] q = new int[32];
        for (int b = 0; b < nb; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0;
            for (int j = 0; j < 32; j++) {
                q[j] = Math.round(x[b * 32 + j] * id);
            }
            dx[b] = d;
            int p = b / 2 * 96 + (b & 1) * 16;
            for (int j = 0; j < 16; j++) {
                xs[b * 48 + j] = (short) q[j];
                xs[b * 48 + 16 + j] = (short) q[j + 16];
                xs[b * 48 + 32 + j] = (short) (-8 * (q[j] + q[j + 16]));
                xp[p + j] = (short) q[j];
                xp[p + 32 + j] = (short) q[j + 16];
                xp[p + 64 + j] = (short) (-8 * (q[j] + q[j + 16]));
            }
        }
    }

    private static float scale(MemorySegment sc, long at) {
        return sc.get(Q8Matrix.SCALE, at) / Q4Matrix.SCALE_HELD;
    }

    /** One block per step: 16 bytes zero-extended to 16 shorts, converted to f32 as one part. */
    void rowsBlock(Q4Matrix w, int from, int to, float[] out) {
        MemorySegment nib = w.quants();
        MemorySegment sc = w.scales();
        int nb = cols / 32;
        long qRow = cols / 2;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        for (int i = from; i < to; i += 2) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            long q0 = i * qRow;
            long s0 = i * sRow;
            for (int b = 0, p = 0; b < nb; b++, p += 48, q0 += 16, s0 += Q8Matrix.SCALE_BYTES) {
                ShortVector xl = ShortVector.fromArray(S256, xs, p);
                ShortVector xh = ShortVector.fromArray(S256, xs, p + 16);
                ShortVector c = ShortVector.fromArray(S256, xs, p + 32);
                float d = dx[b];
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, nib, q0, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                ShortVector pr = v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c);
                a0 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 0)).fma(FloatVector.broadcast(F, scale(sc, s0) * d), a0);
                v = (ShortVector) ByteVector.fromMemorySegment(B128, nib, q0 + qRow, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                pr = v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c);
                a1 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 0)).fma(FloatVector.broadcast(F, scale(sc, s0 + sRow) * d), a1);
            }
            out[i] = a0.reduceLanes(VectorOperators.ADD);
            out[i + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
    }

    /** Two blocks per step: 32 bytes zero-extended to 32 shorts, converted to f32 in two parts. */
    void rowsPair(Q4Matrix w, int from, int to, float[] out) {
        MemorySegment nib = w.quants();
        MemorySegment sc = w.scales();
        int nb = cols / 32;
        long qRow = cols / 2;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        for (int i = from; i < to; i += 2) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            long q0 = i * qRow;
            long s0 = i * sRow;
            for (int b = 0, p = 0; b < nb; b += 2, p += 96, q0 += 32, s0 += 2 * Q8Matrix.SCALE_BYTES) {
                ShortVector xl = ShortVector.fromArray(S512, xp, p);
                ShortVector xh = ShortVector.fromArray(S512, xp, p + 32);
                ShortVector c = ShortVector.fromArray(S512, xp, p + 64);
                float dA = dx[b];
                float dB = dx[b + 1];
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B256, nib, q0, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                ShortVector pr = v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c);
                a0 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 0)).fma(FloatVector.broadcast(F, scale(sc, s0) * dA), a0);
                a0 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 1)).fma(FloatVector.broadcast(F, scale(sc, s0 + 4) * dB), a0);
                v = (ShortVector) ByteVector.fromMemorySegment(B256, nib, q0 + qRow, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S512, 0);
                pr = v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c);
                a1 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 0)).fma(FloatVector.broadcast(F, scale(sc, s0 + sRow) * dA), a1);
                a1 = ((FloatVector) pr.convertShape(VectorOperators.S2F, F, 1)).fma(FloatVector.broadcast(F, scale(sc, s0 + sRow + 4) * dB), a1);
            }
            out[i] = a0.reduceLanes(VectorOperators.ADD);
            out[i + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
    }

    /** A bound, not a result: the integer part only (no conversion, no scale FMA). */
    void rowsIntegerOnly(Q4Matrix w, int from, int to, float[] out) {
        MemorySegment nib = w.quants();
        int nb = cols / 32;
        long qRow = cols / 2;
        for (int i = from; i < to; i += 2) {
            ShortVector a0 = ShortVector.zero(S256);
            ShortVector a1 = a0;
            long q0 = i * qRow;
            for (int b = 0, p = 0; b < nb; b++, p += 48, q0 += 16) {
                ShortVector xl = ShortVector.fromArray(S256, xs, p);
                ShortVector xh = ShortVector.fromArray(S256, xs, p + 16);
                ShortVector c = ShortVector.fromArray(S256, xs, p + 32);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, nib, q0, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                a0 = a0.add(v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c));
                v = (ShortVector) ByteVector.fromMemorySegment(B128, nib, q0 + qRow, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                a1 = a1.add(v.and((short) 15).mul(xl).add(v.lanewise(VectorOperators.LSHR, 4).mul(xh)).add(c));
            }
            out[i] = a0.reduceLanes(VectorOperators.ADD);
            out[i + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
    }
}
