package catena.shard.kernel;

import static catena.shard.kernel.VectorMatMul.B;
import static catena.shard.kernel.VectorMatMul.BLOCK;
import static catena.shard.kernel.VectorMatMul.BLOCK_SHIFT;
import static catena.shard.kernel.VectorMatMul.F;
import static catena.shard.kernel.VectorMatMul.FOLD;
import static catena.shard.kernel.VectorMatMul.LE;
import static catena.shard.kernel.VectorMatMul.M1;
import static catena.shard.kernel.VectorMatMul.M2;
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
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorMatMul}'s kernels for Q4_0 weights held as Q4_0 ({@link Q4Matrix}): the same tile
 * shapes (decode quarters, 1x4, 4x4, 3x8 over interleaved activations) and the same arithmetic
 * per (weight row, activation row) pair, with each weight vector read from nibbles instead of
 * bytes. Each weight vector comes out as exactly the Q8_0 kernels' {@code w * d} (see
 * {@link #lo}), so every output is bit for bit what they give for the same values held as int8
 * ({@link Q4Matrix#toQ8}): per 32-block {@code acc = (w * d) * x + acc} lane-wise in element
 * order, then the same fixed fold. Hence, as for Q8_0, a row's result does not depend on the
 * batch shape it is computed in.
 *
 * <p>A block's 16 bytes are loaded once and zero-extended to ints; the low nibbles are a mask
 * and the high ones a shift (no mask: the bytes were zero-extended), and {@code (n - 8) * d} is
 * one fused multiply-add {@code n * d + (-8 d)}, exact (an f16 scale times a 4-bit integer fits
 * f32's 24 bits). That is 9 vector operations per 32 weights where Q8_0 takes 8, on half the
 * bytes; the first version (a byte mask, a byte subtraction and a multiply per 16 weights) took
 * 14 and ran at half Q8_0's weights per second (shard/src/jmh/RESULTS.md).
 */
final class Q4MatMul {
    /** Ints of the same shape as {@link VectorMatMul#F}: one nibble per f32 lane. */
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int LOW = 0x0F;
    private static final int HIGH = 0xF0;
    /** Bytes of a block holding its low (and, shifted, its high) nibbles. */
    private static final int HALF = BLOCK / 2;

    private Q4MatMul() {
    }

    static void rows(Q4Matrix w, float[] x, int xOff, MemorySegment x8, float[] out, int outOff, int n, int from, int to) {
        if (!VectorMatMul.HOLDS_Q4) {
            throw new IllegalStateException("Q4_0 kernels need vectors of 8 floats or more, this machine's have "
                    + F.length() + ": Q4_0 weights are widened to Q8_0 at load here");
        }
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
            int half = (to - from) / 2;
            for (int i = from; i < from + half; i++) {
                tile2x4(q, sc, i * qRow, i * sRow, half * qRow, half * sRow, cols, x, xa, out, oa + i, rows, half, tmp);
            }
            for (int i = from + 2 * half; i < to; i++) {
                tile1x4(q, sc, i * qRow, i * sRow, cols, x, xa, out, oa + i, rows, tmp);
            }
        }
        for (; a < n; a++) {
            int xa = xOff + a * cols;
            int oa = outOff + a * rows;
            int half = (to - from) / 2;
            halves(q, sc, from, half, cols, x, xa, out, oa, tmp);
            for (int i = from + 2 * half; i < to; i++) {
                out[oa + i] = tile1x1(q, sc, i * qRow, i * sRow, cols, x, xa, tmp);
            }
        }
    }

    /*
     * Every kernel takes a block's weights in element order: for p < 16/L the low nibbles of
     * bytes [pL, pL+L) (elements pL..), then for p < 16/L their high nibbles (elements 16+pL..).
     * With 16 lanes that is one load, its mask and its shift. The helpers stay under C2's 35-byte
     * limit for inlining at call sites it deems cold: a 127-byte one was left out of the decode
     * loop in the engine (not in a micro-benchmark) and every vector was boxed.
     */

    /** The L bytes at {@code at}, zero-extended to ints (L >= 8: a byte vector of exactly L lanes, see {@link VectorMatMul#HOLDS_Q4}). */
    private static IntVector ints(MemorySegment q, long at) {
        return (IntVector) ByteVector.fromMemorySegment(B, q, at, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    /*
     * The helpers take no vector arguments: one that did (d and z, to apply the scale inside) was
     * compiled on its own first, boxed, past C2's InlineSmallCode, and then never inlined
     * ("already compiled into a big method"): decode 15x slower.
     */

    /** Low nibbles (0..15) of the L bytes at {@code at} as f32; {@code n.fma(d, -8d)} is then exactly {@code (n - 8) * d}. */
    private static FloatVector lo(MemorySegment q, long at) {
        return (FloatVector) ints(q, at).and(0x0F).convert(VectorOperators.I2F, 0);
    }

    /** High nibbles of the L bytes at {@code at}, as {@link #lo}. */
    private static FloatVector hi(MemorySegment q, long at) {
        return (FloatVector) ints(q, at).lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
    }

    /**
     * The L bytes at {@code at} masked by {@code m} as f32: for loops that step by L, where the
     * half is chosen on scalars (a vector chosen by a branch passes through a phi, which boxes it).
     * With {@link #LOW} that is the low nibble n; with {@link #HIGH} the high one as 16 n, to be
     * scaled by d/16 ({@link #factor}; exact). A shift by a loop-variant count instead made the
     * batched tiles 2.5x slower.
     */
    private static FloatVector masked(MemorySegment q, long at, int m) {
        return (FloatVector) ints(q, at).and(m).convert(VectorOperators.I2F, 0);
    }

    /** The mask that picks element e's nibble of its byte (see {@link #masked}). */
    private static int mask(int e) {
        return (e & HALF) == 0 ? LOW : HIGH;
    }

    /** What d is multiplied by for element e's masked nibble (see {@link #masked}). */
    private static float factor(int e) {
        return (e & HALF) == 0 ? 1f : 0.0625f;
    }

    /** -8 d: the zero point's share of {@code (n - 8) * d} (exact: a power of two). */
    private static FloatVector zero(float d) {
        return FloatVector.broadcast(F, -8f * d);
    }

    /** One weight row, one activation row. */
    private static float tile1x1(MemorySegment q, MemorySegment sc, long qb, long sb, int cols, float[] x, int xa, float[] tmp) {
        int lanes = F.length();
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols; k += BLOCK, qb += HALF, sb += SCALE_BYTES) {
            float s = scale(sc, sb);
            FloatVector d = FloatVector.broadcast(F, s);
            FloatVector z = zero(s);
            for (int p = 0; p < HALF; p += lanes) {
                acc = lo(q, qb + p).fma(d, z).fma(FloatVector.fromArray(F, x, xa + k + p), acc);
            }
            for (int p = 0; p < HALF; p += lanes) {
                acc = hi(q, qb + p).fma(d, z).fma(FloatVector.fromArray(F, x, xa + k + HALF + p), acc);
            }
        }
        return fold1(acc, tmp);
    }

    /**
     * Rows {@code from + t} and {@code from + half + t} (t < half) against one activation row:
     * decode, two sequential streams per thread.
     */
    private static void halves(MemorySegment q, MemorySegment sc, int from, int half, int cols, float[] x, int xa,
                               float[] out, int oa, float[] tmp) {
        int lanes = F.length();
        long qStride = (long) half * cols / 2;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        long sStride = half * sRow;
        for (int t = 0; t < half; t++) {
            int i = from + t;
            long qb = (long) i * cols / 2;
            long sb = i * sRow;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = acc0;
            for (int k = 0; k < cols; k += BLOCK, qb += HALF, sb += SCALE_BYTES) {
                FloatVector d0 = FloatVector.broadcast(F, scale(sc, sb));
                FloatVector d1 = FloatVector.broadcast(F, scale(sc, sb + sStride));
                FloatVector z0 = d0.mul(-8f);
                FloatVector z1 = d1.mul(-8f);
                for (int p = 0; p < HALF; p += lanes) {
                    FloatVector xv = FloatVector.fromArray(F, x, xa + k + p);
                    acc0 = lo(q, qb + p).fma(d0, z0).fma(xv, acc0);
                    acc1 = lo(q, qb + qStride + p).fma(d1, z1).fma(xv, acc1);
                }
                for (int p = 0; p < HALF; p += lanes) {
                    FloatVector xv = FloatVector.fromArray(F, x, xa + k + HALF + p);
                    acc0 = hi(q, qb + p).fma(d0, z0).fma(xv, acc0);
                    acc1 = hi(q, qb + qStride + p).fma(d1, z1).fma(xv, acc1);
                }
            }
            // parked and folded by a separate method: with the fold inline, C2 hit its node-count
            // cutoff and boxed accumulators
            acc0.intoArray(tmp, 0);
            acc1.intoArray(tmp, lanes);
            fold2(tmp, out, oa + i, half);
        }
    }

    /** Sums of two accumulators parked in {@code tmp[0 ..]} and {@code tmp[L ..]} into {@code out[o]} and {@code out[o + stride]}: {@link #fold4}'s tree. */
    private static void fold2(float[] tmp, float[] out, int o, int stride) {
        int l = F.length();
        if (!FOLD) {
            out[o] = laneOrderSum(FloatVector.fromArray(F, tmp, 0), tmp, 2);
            out[o + stride] = laneOrderSum(FloatVector.fromArray(F, tmp, l), tmp, 3);
            return;
        }
        FloatVector v = self(pair(FloatVector.fromArray(F, tmp, 0), FloatVector.fromArray(F, tmp, l), X1, M1), X2);
        v = self(v, X3);
        (l == 16 ? self(v, X4) : v).intoArray(tmp, 0);
        out[o] = tmp[0];
        out[o + stride] = tmp[l / 2];
    }

    /** -8 times the lane-wise sum of a block's activation vectors: the zero point's share of each lane's sum. */
    private static FloatVector offset(float[] x, int at) {
        FloatVector c = FloatVector.fromArray(F, x, at);
        for (int p = F.length(); p < BLOCK; p += F.length()) {
            c = c.add(FloatVector.fromArray(F, x, at + p));
        }
        return c.mul(-8f);
    }

    /** The lanes' sum by the fixed fold every kernel uses (a separate method: see {@link #halves}). */
    private static float fold1(FloatVector acc, float[] tmp) {
        if (!FOLD) {
            return laneOrderSum(acc, tmp, 0);
        }
        acc = self(self(self(acc, X1), X2), X3);
        return (F.length() == 16 ? self(acc, X4) : acc).lane(0);
    }

    /**
     * Sums of four accumulators parked in {@code tmp[j*L ..]} into {@code out[o + j*stride]}: the
     * same fold as VectorMatMul's decode loop and 1x4 tile, so results are bit for bit theirs.
     */
    private static void fold4(float[] tmp, float[] out, int o, int stride, int count) {
        int l = F.length();
        if (!FOLD) {
            for (int j = 0; j < count; j++) {
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
        if (count == 4) {
            out[o + 2 * stride] = tmp[l / 4];
            out[o + 3 * stride] = tmp[l / 2 + l / 4];
        }
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
                int e = (int) (k & (BLOCK - 1));
                // element e of the block: low nibbles of byte e, or high nibbles of byte e - 16
                long qk = qb + blk * HALF + (e & (HALF - 1));
                int m = mask(e);
                float f = factor(e);
                float s0 = scale(sc, s);
                float s1 = scale(sc, s + sThird);
                float s2 = scale(sc, s + 2 * sThird);
                FloatVector w0 = masked(q, qk, m).fma(FloatVector.broadcast(F, s0 * f), zero(s0));
                FloatVector w1 = masked(q, qk + qThird, m).fma(FloatVector.broadcast(F, s1 * f), zero(s1));
                FloatVector w2 = masked(q, qk + 2 * qThird, m).fma(FloatVector.broadcast(F, s2 * f), zero(s2));
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
        for (int k = 0; k < cols; k += BLOCK, qb += HALF, sb += SCALE_BYTES) {
            float s = scale(sc, sb);
            FloatVector z = zero(s);
            for (int e = 0; e < BLOCK; e += lanes) {
                // element e: the low nibbles of byte e, or the high ones of byte e - 16
                FloatVector wv = masked(q, qb + (e & (HALF - 1)), mask(e)).fma(FloatVector.broadcast(F, s * factor(e)), z);
                int xk = xa + k + e;
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
        fold4(tmp, out, o, outStride, 4);
    }

    /**
     * Two weight rows x four activation rows: 8 accumulators (groups of four to seven activation
     * rows). Two, not the Q8_0 tile's four: with the nibble work four rows went past C2's
     * node-count cutoff and every vector was boxed (5x slower).
     */
    private static void tile2x4(MemorySegment q, MemorySegment sc, long qb, long sb, long qRow, long sRow,
                                int cols, float[] x, int xa, float[] out, int o, int outStride, int rowStride, float[] tmp) {
        int lanes = F.length();
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int k = 0; k < cols; k += BLOCK, qb += HALF, sb += SCALE_BYTES) {
            float s0 = scale(sc, sb);
            float s1 = scale(sc, sb + sRow);
            FloatVector z0 = zero(s0);
            FloatVector z1 = zero(s1);
            for (int e = 0; e < BLOCK; e += lanes) {
                long at = qb + (e & (HALF - 1));
                int m = mask(e);
                float f = factor(e);
                int xk = xa + k + e;
                FloatVector x0 = FloatVector.fromArray(F, x, xk);
                FloatVector x1 = FloatVector.fromArray(F, x, xk + cols);
                FloatVector x2 = FloatVector.fromArray(F, x, xk + 2 * cols);
                FloatVector x3 = FloatVector.fromArray(F, x, xk + 3 * cols);
                FloatVector w0 = masked(q, at, m).fma(FloatVector.broadcast(F, s0 * f), z0);
                a00 = w0.fma(x0, a00);
                a01 = w0.fma(x1, a01);
                a02 = w0.fma(x2, a02);
                a03 = w0.fma(x3, a03);
                FloatVector w1 = masked(q, at + qRow, m).fma(FloatVector.broadcast(F, s1 * f), z1);
                a10 = w1.fma(x0, a10);
                a11 = w1.fma(x1, a11);
                a12 = w1.fma(x2, a12);
                a13 = w1.fma(x3, a13);
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
        sum16(tmp, out, o, outStride, 2, rowStride, 8);
    }
}
