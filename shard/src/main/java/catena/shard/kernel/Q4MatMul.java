package catena.shard.kernel;

import static catena.shard.kernel.VectorMatMul.B;
import static catena.shard.kernel.VectorMatMul.BLOCK;
import static catena.shard.kernel.VectorMatMul.BLOCK_SHIFT;
import static catena.shard.kernel.VectorMatMul.F;
import static catena.shard.kernel.VectorMatMul.FOLD;
import static catena.shard.kernel.VectorMatMul.LE;
import static catena.shard.kernel.VectorMatMul.M1;
import static catena.shard.kernel.VectorMatMul.M2;
import static catena.shard.kernel.VectorMatMul.PARTS_PER_LOAD;
import static catena.shard.kernel.VectorMatMul.SCALE_BYTES;
import static catena.shard.kernel.VectorMatMul.SCRATCH;
import static catena.shard.kernel.VectorMatMul.TILE_ACTS;
import static catena.shard.kernel.VectorMatMul.TILE_ROWS;
import static catena.shard.kernel.VectorMatMul.X1;
import static catena.shard.kernel.VectorMatMul.X2;
import static catena.shard.kernel.VectorMatMul.X3;
import static catena.shard.kernel.VectorMatMul.X4;
import static catena.shard.kernel.VectorMatMul.laneOrderSum;
import static catena.shard.kernel.VectorMatMul.pair;
import static catena.shard.kernel.VectorMatMul.scale;
import static catena.shard.kernel.VectorMatMul.self;
import static catena.shard.kernel.VectorMatMul.sum16;
import static catena.shard.kernel.VectorMatMul.sum3x8;

import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link VectorMatMul}'s kernels for Q4_0 weights held as Q4_0 ({@link Q4Matrix}): the same tile
 * shapes (decode quarters, 1x4, 4x4, 3x8 over interleaved activations) and the same arithmetic
 * per (weight row, activation row) pair, with each weight vector read from nibbles instead of
 * bytes. Each weight vector comes out as exactly the Q8_0 kernels' {@code w * d} (see
 * {@link #nib}), so every output is bit for bit
 * what they give for the same values held as int8 ({@link Q4Matrix#toQ8}): per 32-block
 * {@code acc = (w * d) * x + acc} lane-wise in element order, then the same fixed fold.
 * Hence, as for Q8_0, a row's result does not depend on the batch shape it is computed in.
 *
 * <p>Half the bytes per weight of Q8_0 (20 held per 32 weights against 36) for two more vector
 * operations per weight vector (a mask and a subtraction) and a second scale broadcast per block.
 */
final class Q4MatMul {
    private static final byte LOW = 0x0F;
    private static final byte HIGH = (byte) 0xF0;
    /** Nibble 8 (zero) in the low half, and in the high half (as 16 * 8, wrapping to -128). */
    private static final byte LOW_ZERO = 8;
    private static final byte HIGH_ZERO = (byte) 0x80;

    private Q4MatMul() {
    }

    static void rows(Q4Matrix w, float[] x, int xOff, MemorySegment x8, float[] out, int outOff, int n, int from, int to) {
        MemorySegment q = w.quants();
        MemorySegment sc = w.scales();
        int cols = w.cols();
        int rows = w.rows();
        long qRow = cols / 2;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        float[] tmp = SCRATCH.get();
        int a = 0;
        if (n >= 8 && (x8 == null || x8.byteSize() < VectorMatMul.interleavedBytes(n, cols))) {
            throw new IllegalArgumentException("n=" + n + " activation rows need their groups of eight interleaved ("
                    + VectorMatMul.interleavedBytes(n, cols) + " bytes), got " + (x8 == null ? "none" : x8.byteSize() + " bytes"));
        }
        for (; a + 8 <= n; a += 8) {
            tiles3x8(q, sc, from, to, cols, x8, (long) a * cols * Float.BYTES, x, xOff + a * cols,
                    out, outOff + a * rows, rows, tmp);
        }
        for (; a + TILE_ACTS <= n; a += TILE_ACTS) {
            int xa = xOff + a * cols;
            int oa = outOff + a * rows;
            int quarter = (to - from) / TILE_ROWS;
            for (int i = from; i < from + quarter; i++) {
                tile4x4(q, sc, i * qRow, i * sRow, quarter * qRow, quarter * sRow, cols, x, xa, out, oa + i, rows, quarter, tmp);
            }
            for (int i = from + TILE_ROWS * quarter; i < to; i++) {
                tile1x4(q, sc, i * qRow, i * sRow, cols, x, xa, out, oa + i, rows, tmp);
            }
        }
        for (; a < n; a++) {
            int xa = xOff + a * cols;
            int oa = outOff + a * rows;
            int quarter = (to - from) / TILE_ROWS;
            quarters(q, sc, from, quarter, cols, x, xa, out, oa, tmp);
            for (int i = from + TILE_ROWS * quarter; i < to; i++) {
                out[oa + i] = tile1x1(q, sc, i * qRow, i * sRow, cols, x, xa, tmp);
            }
        }
    }

    /*
     * Every kernel computes the weight vector (nibble - 8) * d of elements [e, e+L) of a block (e
     * a multiple of L below 32) the same way. Elements 0-15 are the low nibbles of the block's 16
     * bytes: (b & 0x0F) - 8, times d (the held scale times 16). Elements 16-31 are the high
     * nibbles, taken without a shift (x86 has none for bytes): (b & 0xF0) - 0x80 is 16 * (h - 8)
     * as a signed byte, times the held d/16: the same real product, so the same rounded f32 as the
     * Q8_0 kernels' w * d. Which half is chosen on scalars (offset, mask m, zero z, factor f): a
     * vector chosen by a branch passes through a phi, which boxes it.
     */

    /**
     * {@code (b & m) - z} of the L bytes at {@code at}, widened to f32 (L-byte loads). Kept under
     * C2's 35-byte limit for inlining at call sites it deems cold: at 127 bytes it was left out of
     * the decode loop in the engine (not in a micro-benchmark) and every vector was boxed.
     */
    private static FloatVector nib(MemorySegment q, long at, byte m, byte z) {
        return (FloatVector) ByteVector.fromMemorySegment(B, q, at, LE).and(m).sub(z).convertShape(VectorOperators.B2F, F, 0);
    }

    /** As {@link #nib} for 128-bit vectors: 8 bytes loaded, widened by halves (constant parts stay intrinsified). */
    private static FloatVector nibPart(MemorySegment q, long at, byte m, byte z, int e) {
        ByteVector v = ByteVector.fromMemorySegment(B, q, at, LE).and(m).sub(z);
        return (FloatVector) ((e & (B.length() / 2)) == 0 ? v.convertShape(VectorOperators.B2F, F, 0)
                : v.convertShape(VectorOperators.B2F, F, 1));
    }

    /** One weight row, one activation row. */
    private static float tile1x1(MemorySegment q, MemorySegment sc, long qb, long sb, int cols, float[] x, int xa, float[] tmp) {
        int lanes = F.length();
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK / 2, sb += SCALE_BYTES) {
            float d = scale(sc, sb);
            for (int h = 0; h < BLOCK / lanes; h++) {
                int e = h * lanes;
                long off = e & (BLOCK / 2 - 1) & -B.length();
                byte m = (e & BLOCK / 2) != 0 ? HIGH : LOW;
                byte z = (e & BLOCK / 2) != 0 ? HIGH_ZERO : LOW_ZERO;
                float f = (e & BLOCK / 2) != 0 ? 1f : 16f;
                acc = (PARTS_PER_LOAD == 1 ? nib(q, qb + off, m, z) : nibPart(q, qb + off, m, z, e)).mul(d * f).fma(FloatVector.fromArray(F, x, xa + k + h * lanes), acc);
            }
        }
        if (!FOLD) {
            return laneOrderSum(acc, tmp, 0);
        }
        acc = self(self(self(acc, X1), X2), X3);
        return (F.length() == 16 ? self(acc, X4) : acc).lane(0);
    }

    /** Rows {@code from + t + j*quarter} (j = 0..3, t < quarter) against one activation row: decode. */
    private static void quarters(MemorySegment q, MemorySegment sc, int from, int quarter, int cols, float[] x, int xa,
                                 float[] out, int oa, float[] tmp) {
        int lanes = F.length();
        long qStride = (long) quarter * cols / 2;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        long sStride = quarter * sRow;
        for (int t = 0; t < quarter; t++) {
            int i = from + t;
            long qb = (long) i * cols / 2;
            long sb = i * sRow;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int k = 0; k < cols; k += BLOCK, qb += BLOCK / 2, sb += SCALE_BYTES) {
                float d0 = scale(sc, sb);
                float d1 = scale(sc, sb + sStride);
                float d2 = scale(sc, sb + 2 * sStride);
                float d3 = scale(sc, sb + 3 * sStride);
                for (int h = 0; h < BLOCK / lanes; h++) {
                    int e = h * lanes;
                    long off = e & (BLOCK / 2 - 1) & -B.length();
                    byte m = (e & BLOCK / 2) != 0 ? HIGH : LOW;
                    byte z = (e & BLOCK / 2) != 0 ? HIGH_ZERO : LOW_ZERO;
                    float f = (e & BLOCK / 2) != 0 ? 1f : 16f;
                    FloatVector xv = FloatVector.fromArray(F, x, xa + k + h * lanes);
                    acc0 = (PARTS_PER_LOAD == 1 ? nib(q, qb + off, m, z) : nibPart(q, qb + off, m, z, e)).mul(d0 * f).fma(xv, acc0);
                    acc1 = (PARTS_PER_LOAD == 1 ? nib(q, qb + qStride + off, m, z) : nibPart(q, qb + qStride + off, m, z, e)).mul(d1 * f).fma(xv, acc1);
                    acc2 = (PARTS_PER_LOAD == 1 ? nib(q, qb + 2 * qStride + off, m, z) : nibPart(q, qb + 2 * qStride + off, m, z, e)).mul(d2 * f).fma(xv, acc2);
                    acc3 = (PARTS_PER_LOAD == 1 ? nib(q, qb + 3 * qStride + off, m, z) : nibPart(q, qb + 3 * qStride + off, m, z, e)).mul(d3 * f).fma(xv, acc3);
                }
            }
            // parked and folded by a separate method: the nibble extraction makes this loop nest
            // bigger than the Q8_0 one, and with the fold inline C2 hit its node-count cutoff, left
            // the fold's calls out and boxed every vector (decode 30x slower)
            int l = F.length();
            acc0.intoArray(tmp, 0);
            acc1.intoArray(tmp, l);
            acc2.intoArray(tmp, 2 * l);
            acc3.intoArray(tmp, 3 * l);
            fold4(tmp, out, oa + i, quarter);
        }
    }

    /**
     * Sums of four accumulators parked in {@code tmp[j*L ..]} into {@code out[o + j*stride]}: the
     * same fold as VectorMatMul's decode loop and 1x4 tile, so results are bit for bit theirs.
     */
    private static void fold4(float[] tmp, float[] out, int o, int stride) {
        int l = F.length();
        if (!FOLD) {
            for (int j = 0; j < 4; j++) {
                out[o + j * stride] = laneOrderSum(FloatVector.fromArray(F, tmp, j * l), tmp, 4 + j);
            }
            return;
        }
        FloatVector v = pair(pair(FloatVector.fromArray(F, tmp, 0), FloatVector.fromArray(F, tmp, l), X1, M1),
                pair(FloatVector.fromArray(F, tmp, 2 * l), FloatVector.fromArray(F, tmp, 3 * l), X1, M1), X2, M2);
        v = self(v, X3);
        (l == 16 ? self(v, X4) : v).intoArray(tmp, 0);
        out[o] = tmp[0];
        out[o + stride] = tmp[l / 2];
        out[o + 2 * stride] = tmp[l / 4];
        out[o + 3 * stride] = tmp[l / 2 + l / 4];
    }

    /** Rows [from, to) against eight interleaved activation rows: 3x8 register tiles (see VectorMatMul's). */
    private static void tiles3x8(MemorySegment q, MemorySegment sc, int from, int to, int cols, MemorySegment x8, long xg,
                                 float[] x, int xa, float[] out, int oa, int outStride, float[] tmp) {
        int lanes = F.length();
        long vecBytes = (long) lanes * Float.BYTES;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        int third = (to - from) / 3;
        long qThird = (long) third * cols / 2;
        long sThird = third * sRow;
        for (int i = from; i < from + third; i++) {
            long qb = (long) i * cols / 2;
            long sb = i * sRow;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
            long xk = xg;
            for (long k = 0; k < cols; k += lanes, xk += 8 * vecBytes) {
                long blk = k >> BLOCK_SHIFT;
                long s = sb + blk * SCALE_BYTES;
                long qk = qb + blk * (BLOCK / 2);
                int e = (int) (k & (BLOCK - 1));
                long off = e & (BLOCK / 2 - 1) & -B.length();
                byte m = (e & BLOCK / 2) != 0 ? HIGH : LOW;
                byte z = (e & BLOCK / 2) != 0 ? HIGH_ZERO : LOW_ZERO;
                float f = (e & BLOCK / 2) != 0 ? 1f : 16f;
                FloatVector w0 = (PARTS_PER_LOAD == 1 ? nib(q, qk + off, m, z) : nibPart(q, qk + off, m, z, e)).mul(scale(sc, s) * f);
                FloatVector w1 = (PARTS_PER_LOAD == 1 ? nib(q, qk + qThird + off, m, z) : nibPart(q, qk + qThird + off, m, z, e)).mul(scale(sc, s + sThird) * f);
                FloatVector w2 = (PARTS_PER_LOAD == 1 ? nib(q, qk + 2 * qThird + off, m, z) : nibPart(q, qk + 2 * qThird + off, m, z, e)).mul(scale(sc, s + 2 * sThird) * f);
                FloatVector xv = FloatVector.fromMemorySegment(F, x8, xk, LE);
                a00 = w0.fma(xv, a00);
                a10 = w1.fma(xv, a10);
                a20 = w2.fma(xv, a20);
                xv = FloatVector.fromMemorySegment(F, x8, xk + vecBytes, LE);
                a01 = w0.fma(xv, a01);
                a11 = w1.fma(xv, a11);
                a21 = w2.fma(xv, a21);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 2 * vecBytes, LE);
                a02 = w0.fma(xv, a02);
                a12 = w1.fma(xv, a12);
                a22 = w2.fma(xv, a22);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 3 * vecBytes, LE);
                a03 = w0.fma(xv, a03);
                a13 = w1.fma(xv, a13);
                a23 = w2.fma(xv, a23);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 4 * vecBytes, LE);
                a04 = w0.fma(xv, a04);
                a14 = w1.fma(xv, a14);
                a24 = w2.fma(xv, a24);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 5 * vecBytes, LE);
                a05 = w0.fma(xv, a05);
                a15 = w1.fma(xv, a15);
                a25 = w2.fma(xv, a25);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 6 * vecBytes, LE);
                a06 = w0.fma(xv, a06);
                a16 = w1.fma(xv, a16);
                a26 = w2.fma(xv, a26);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 7 * vecBytes, LE);
                a07 = w0.fma(xv, a07);
                a17 = w1.fma(xv, a17);
                a27 = w2.fma(xv, a27);
            }
            a00.intoArray(tmp, 0);
            a01.intoArray(tmp, lanes);
            a02.intoArray(tmp, 2 * lanes);
            a03.intoArray(tmp, 3 * lanes);
            a04.intoArray(tmp, 4 * lanes);
            a05.intoArray(tmp, 5 * lanes);
            a06.intoArray(tmp, 6 * lanes);
            a07.intoArray(tmp, 7 * lanes);
            a10.intoArray(tmp, 8 * lanes);
            a11.intoArray(tmp, 9 * lanes);
            a12.intoArray(tmp, 10 * lanes);
            a13.intoArray(tmp, 11 * lanes);
            a14.intoArray(tmp, 12 * lanes);
            a15.intoArray(tmp, 13 * lanes);
            a16.intoArray(tmp, 14 * lanes);
            a17.intoArray(tmp, 15 * lanes);
            if (FOLD) {
                a20.intoArray(tmp, 16 * lanes);
                a21.intoArray(tmp, 17 * lanes);
                a22.intoArray(tmp, 18 * lanes);
                a23.intoArray(tmp, 19 * lanes);
                a24.intoArray(tmp, 20 * lanes);
                a25.intoArray(tmp, 21 * lanes);
                a26.intoArray(tmp, 22 * lanes);
                a27.intoArray(tmp, 23 * lanes);
                sum3x8(tmp, out, oa + i, outStride, third);
                continue;
            }
            sum16(tmp, out, oa + i, outStride, 3, third, 16);
            a20.intoArray(tmp, 0);
            a21.intoArray(tmp, lanes);
            a22.intoArray(tmp, 2 * lanes);
            a23.intoArray(tmp, 3 * lanes);
            a24.intoArray(tmp, 4 * lanes);
            a25.intoArray(tmp, 5 * lanes);
            a26.intoArray(tmp, 6 * lanes);
            a27.intoArray(tmp, 7 * lanes);
            sum16(tmp, out, oa + i + 2 * third, outStride, 3, third, 8);
        }
        for (int i = from + 3 * third; i < to; i++) {
            long qb = (long) i * cols / 2;
            long sb = i * sRow;
            tile1x4(q, sc, qb, sb, cols, x, xa, out, oa + i, outStride, tmp);
            tile1x4(q, sc, qb, sb, cols, x, xa + 4 * cols, out, oa + i + 4 * outStride, outStride, tmp);
        }
    }

    /** One weight row, four activation rows. */
    private static void tile1x4(MemorySegment q, MemorySegment sc, long qb, long sb, int cols, float[] x, int xa,
                                float[] out, int o, int outStride, float[] tmp) {
        int lanes = F.length();
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK / 2, sb += SCALE_BYTES) {
            float d = scale(sc, sb);
            for (int h = 0; h < BLOCK / lanes; h++) {
                int e = h * lanes;
                long off = e & (BLOCK / 2 - 1) & -B.length();
                byte m = (e & BLOCK / 2) != 0 ? HIGH : LOW;
                byte z = (e & BLOCK / 2) != 0 ? HIGH_ZERO : LOW_ZERO;
                float f = (e & BLOCK / 2) != 0 ? 1f : 16f;
                FloatVector wv = (PARTS_PER_LOAD == 1 ? nib(q, qb + off, m, z) : nibPart(q, qb + off, m, z, e)).mul(d * f);
                int xk = xa + k + h * lanes;
                acc0 = wv.fma(FloatVector.fromArray(F, x, xk), acc0);
                acc1 = wv.fma(FloatVector.fromArray(F, x, xk + cols), acc1);
                acc2 = wv.fma(FloatVector.fromArray(F, x, xk + 2 * cols), acc2);
                acc3 = wv.fma(FloatVector.fromArray(F, x, xk + 3 * cols), acc3);
            }
        }
        int l = F.length();
        acc0.intoArray(tmp, 0);
        acc1.intoArray(tmp, l);
        acc2.intoArray(tmp, 2 * l);
        acc3.intoArray(tmp, 3 * l);
        fold4(tmp, out, o, outStride);
    }

    /** Four weight rows x four activation rows: 16 accumulators (groups of four to seven activation rows). */
    private static void tile4x4(MemorySegment q, MemorySegment sc, long qb, long sb, long qRow, long sRow,
                                int cols, float[] x, int xa, float[] out, int o, int outStride, int rowStride, float[] tmp) {
        int lanes = F.length();
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK / 2, sb += SCALE_BYTES) {
            float d0 = scale(sc, sb);
            float d1 = scale(sc, sb + sRow);
            float d2 = scale(sc, sb + 2 * sRow);
            float d3 = scale(sc, sb + 3 * sRow);
            for (int h = 0; h < BLOCK / lanes; h++) {
                int e = h * lanes;
                long off = e & (BLOCK / 2 - 1) & -B.length();
                byte m = (e & BLOCK / 2) != 0 ? HIGH : LOW;
                byte z = (e & BLOCK / 2) != 0 ? HIGH_ZERO : LOW_ZERO;
                float f = (e & BLOCK / 2) != 0 ? 1f : 16f;
                int xk = xa + k + h * lanes;
                FloatVector x0 = FloatVector.fromArray(F, x, xk);
                FloatVector x1 = FloatVector.fromArray(F, x, xk + cols);
                FloatVector x2 = FloatVector.fromArray(F, x, xk + 2 * cols);
                FloatVector x3 = FloatVector.fromArray(F, x, xk + 3 * cols);
                FloatVector w0 = (PARTS_PER_LOAD == 1 ? nib(q, qb + off, m, z) : nibPart(q, qb + off, m, z, e)).mul(d0 * f);
                a00 = w0.fma(x0, a00);
                a01 = w0.fma(x1, a01);
                a02 = w0.fma(x2, a02);
                a03 = w0.fma(x3, a03);
                FloatVector w1 = (PARTS_PER_LOAD == 1 ? nib(q, qb + qRow + off, m, z) : nibPart(q, qb + qRow + off, m, z, e)).mul(d1 * f);
                a10 = w1.fma(x0, a10);
                a11 = w1.fma(x1, a11);
                a12 = w1.fma(x2, a12);
                a13 = w1.fma(x3, a13);
                FloatVector w2 = (PARTS_PER_LOAD == 1 ? nib(q, qb + 2 * qRow + off, m, z) : nibPart(q, qb + 2 * qRow + off, m, z, e)).mul(d2 * f);
                a20 = w2.fma(x0, a20);
                a21 = w2.fma(x1, a21);
                a22 = w2.fma(x2, a22);
                a23 = w2.fma(x3, a23);
                FloatVector w3 = (PARTS_PER_LOAD == 1 ? nib(q, qb + 3 * qRow + off, m, z) : nibPart(q, qb + 3 * qRow + off, m, z, e)).mul(d3 * f);
                a30 = w3.fma(x0, a30);
                a31 = w3.fma(x1, a31);
                a32 = w3.fma(x2, a32);
                a33 = w3.fma(x3, a33);
            }
        }
        int l = F.length();
        a00.intoArray(tmp, 0);
        a01.intoArray(tmp, l);
        a02.intoArray(tmp, 2 * l);
        a03.intoArray(tmp, 3 * l);
        a10.intoArray(tmp, 4 * l);
        a11.intoArray(tmp, 5 * l);
        a12.intoArray(tmp, 6 * l);
        a13.intoArray(tmp, 7 * l);
        a20.intoArray(tmp, 8 * l);
        a21.intoArray(tmp, 9 * l);
        a22.intoArray(tmp, 10 * l);
        a23.intoArray(tmp, 11 * l);
        a30.intoArray(tmp, 12 * l);
        a31.intoArray(tmp, 13 * l);
        a32.intoArray(tmp, 14 * l);
        a33.intoArray(tmp, 15 * l);
        sum16(tmp, out, o, outStride, 2, rowStride, 16);
    }
}
