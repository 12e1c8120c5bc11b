package catena.shard.kernel;

import catena.shard.tensor.F32Matrix;
import catena.shard.tensor.Matrix;
import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API matmul over a range of output rows: the single-threaded body that {@link MatMul}
 * splits across the {@link ComputePool}. Activations stay f32 (measured faster than int8
 * activations here: the Vector API has no int8 multiply-add-pairs; shard/src/jmh/RESULTS.md).
 *
 * <p>Q8_0 weights come in {@link Q8Matrix}'s layout (quants of a row contiguous, f32 scales
 * apart): each block's 32 quants are widened int8 to f32 in registers, scaled by their d, and used
 * against several activation rows at once: register tiles of 3 weight rows x 8 activation rows
 * for groups of eight ({@link #q8Tiles3x8}), 4x4 for four to seven, and the 4-row decode loop
 * ({@link #q8Quarters}) for single rows. A tile's weight rows come from separate parts of the
 * chunk, so that each is a sequential stream the hardware prefetcher follows.
 *
 * <p>Every tile shape does the same arithmetic for one (weight row, activation row) pair, in the
 * same order: per 32-block, {@code acc = (w * d) * x + acc} lane-wise, then a fixed fold of the
 * lanes. So a row's result is bit-identical whatever n is and wherever it falls in a batch: a
 * re-prefill reproduces what one-token decode steps computed.
 *
 * <p>The species are {@code static final}: C2 intrinsifies Vector API calls only when the species
 * is a compile-time constant (an instance field, even a record's, is not one once a kernel method
 * is compiled on its own; measured 100x slower). The preferred species is taken: 512 bits on
 * AVX-512, 256 on AVX2; the default build also runs the kernel tests with 128- and 256-bit vectors.
 */
public final class VectorMatMul {
    /** Weight rows per register tile. */
    public static final int TILE_ROWS = 4;
    /** Activation rows per register tile. */
    public static final int TILE_ACTS = 4;

    static final int BLOCK = Q8Matrix.BLOCK;
    /** log2 of BLOCK: column k's scale is block k >> BLOCK_SHIFT. */
    static final int BLOCK_SHIFT = Integer.numberOfTrailingZeros(BLOCK);
    static final int SCALE_BYTES = Q8Matrix.SCALE_BYTES;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Float lanes L (4, 8 or 16; a Q8_0 block is 32/L vectors). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Bytes widened into one float vector: L lanes, or 8 when L = 4 (64 bits is the smallest shape). */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    static final int PARTS_PER_LOAD = B.length() / F.length();
    /** Per-thread room for 16 accumulators and their folded sums (see {@link #sum16}); allocated once per thread. */
    static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[32 * F.length()]);

    private VectorMatMul() {
    }

    /**
     * Output rows {@code [from, to)} for all {@code n} activation rows (see {@link MatMul#matmul}).
     * Loop order: activation tiles outside, weight-row tiles inside, so a chunk's weights (sized by
     * the caller to stay in L2) are reused from cache by every activation tile. For n >= 8 this
     * allocates the interleaved activations on each call (tests, one-off calls); {@link MatMul}
     * interleaves once per matmul and calls the overload below.
     */
    public static void rows(Matrix w, float[] x, int xOff, float[] out, int outOff, int n, int from, int to) {
        MemorySegment x8 = null;
        if ((w instanceof Q8Matrix || w instanceof Q4Matrix) && n >= 8) {
            x8 = Arena.ofAuto().allocate(interleavedBytes(n, w.cols()), 64);
            interleave8(x, xOff, n, w.cols(), x8);
        }
        rows(w, x, xOff, x8, out, outOff, n, from, to);
    }

    /**
     * As {@link #rows(Matrix, float[], int, float[], int, int, int, int)}, with the activation rows'
     * groups of eight already interleaved into {@code x8} by {@link #interleave8} (required for
     * Q8_0 and Q4_0 weights when n >= 8; one copy serves every chunk of a matmul).
     */
    public static void rows(Matrix w, float[] x, int xOff, MemorySegment x8, float[] out, int outOff, int n, int from, int to) {
        switch (w) {
            case Q8Matrix q -> q8Rows(q, x, xOff, x8, out, outOff, n, from, to);
            case Q4Matrix q -> Q4MatMul.rows(q, x, xOff, x8, out, outOff, n, from, to);
            case F32Matrix f -> f32Rows(f, x, xOff, out, outOff, n, from, to);
        }
    }

    /** Bytes {@link #interleave8} writes for n activation rows of width cols: their full groups of eight. */
    public static long interleavedBytes(int n, int cols) {
        return (long) (n / 8) * 8 * cols * Float.BYTES;
    }

    /**
     * Copies each full group of eight activation rows of {@code x} into {@code dst} interleaved by
     * vector: group g, columns [k, k+L) of row a at float {@code g*8*cols + 8k + a*L}. The 3x8 tile
     * then finds its eight activation vectors for step k at one address plus constants: with rows
     * apart, every load needed its own index arithmetic, and with the array's int indexes C2 also
     * sign-extends each one; those scalar operations competed with the FMAs for ports (hot 3x8
     * tile, one core: 100 -> 152 GFLOP/s; RESULTS.md). {@code cols} must be a multiple of L.
     */
    public static void interleave8(float[] x, int xOff, int n, int cols, MemorySegment dst) {
        int lanes = F.length();
        for (int g = 0; g + 8 <= n; g += 8) {
            long base = (long) g * cols * Float.BYTES;
            for (int a = 0; a < 8; a++) {
                int src = xOff + (g + a) * cols;
                long at = base + (long) a * lanes * Float.BYTES;
                for (int k = 0; k < cols; k += lanes, at += 8L * lanes * Float.BYTES) {
                    FloatVector.fromArray(F, x, src + k).intoMemorySegment(dst, at, LE);
                }
            }
        }
    }

    private static void q8Rows(Q8Matrix w, float[] x, int xOff, MemorySegment x8, float[] out, int outOff, int n, int from, int to) {
        MemorySegment q = w.quants();
        MemorySegment sc = w.scales();
        int cols = w.cols();
        int rows = w.rows();
        long qRow = cols;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        float[] tmp = SCRATCH.get();
        int a = 0;
        if (n >= 8 && (x8 == null || x8.byteSize() < interleavedBytes(n, cols))) {
            throw new IllegalArgumentException("n=" + n + " activation rows need their groups of eight interleaved ("
                    + interleavedBytes(n, cols) + " bytes), got " + (x8 == null ? "none" : x8.byteSize() + " bytes"));
        }
        for (; a + 8 <= n; a += 8) {
            q8Tiles3x8(q, sc, from, to, cols, x8, (long) a * cols * Float.BYTES, x, xOff + a * cols,
                    out, outOff + a * rows, rows, tmp);
        }
        for (; a + TILE_ACTS <= n; a += TILE_ACTS) {
            int xa = xOff + a * cols;
            int oa = outOff + a * rows;
            // rows from the four quarters of the range, as in q8Quarters: four streams the prefetcher follows
            int quarter = (to - from) / TILE_ROWS;
            for (int i = from; i < from + quarter; i++) {
                q8Tile4x4(q, sc, i * qRow, i * sRow, quarter * qRow, quarter * sRow, cols, x, xa, out, oa + i, rows, quarter, tmp);
            }
            for (int i = from + TILE_ROWS * quarter; i < to; i++) {
                q8Tile1x4(q, sc, i * qRow, i * sRow, cols, x, xa, out, oa + i, rows, tmp);
            }
        }
        for (; a < n; a++) {
            int xa = xOff + a * cols;
            int oa = outOff + a * rows;
            // The four rows of a tile come from the four quarters of the range, so each of the four
            // streams reads consecutive rows of its own pages: the L2 streamer tracks one stream per
            // 4 KiB page, and four adjacent short rows in one page defeated it (cold matvec 5.3 -> 9.5
            // GB/s per core, like the long-row shape).
            int quarter = (to - from) / TILE_ROWS;
            q8Quarters(q, sc, from, quarter, cols, x, xa, out, oa, tmp);
            for (int i = from + TILE_ROWS * quarter; i < to; i++) {
                out[oa + i] = q8Tile1x1(q, sc, i * qRow, i * sRow, cols, x, xa, tmp);
            }
        }
    }

    // Horizontal sums. reduceLanes(ADD) sums in one order when C2 has compiled the kernel and in
    // another when interpreted, so logits would change with JIT state (replicas must reproduce each
    // other). These folds use only lane-wise adds, blends and fixed permutes: the same order in
    // every mode. Folding k accumulators together (pair) costs a fraction of k separate reductions.

    /** Partners for one fold step s (lane i with lane i^s), for s = L/2, L/4, L/8, L/16. */
    static final VectorShuffle<Float> X1 = xor(F.length() / 2);
    static final VectorShuffle<Float> X2 = xor(F.length() / 4);
    static final VectorShuffle<Float> X3 = xor(F.length() / 8);
    static final VectorShuffle<Float> X4 = xor(F.length() / 16);
    /** Lanes with bit s set: where a fold step keeps the second operand's partial sums. */
    static final VectorMask<Float> M1 = bit(F.length() / 2);
    static final VectorMask<Float> M2 = bit(F.length() / 4);
    static final VectorMask<Float> M3 = bit(F.length() / 8);
    static final VectorMask<Float> M4 = bit(F.length() / 16);
    /** Whether the 16-accumulator fold applies (8 or 16 lanes); else lane sums go through scratch. */
    static final boolean FOLD = F.length() == 8 || F.length() == 16;

    private static VectorShuffle<Float> xor(int step) {
        return step >= 1 ? VectorShuffle.fromOp(F, i -> i ^ step) : null;
    }

    private static VectorMask<Float> bit(int step) {
        if (step < 1) {
            return null;
        }
        boolean[] bits = new boolean[F.length()];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = (i & step) != 0;
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    /** Lanes without bit s: a_i + a_(i^s); lanes with it: b_i + b_(i^s). */
    static FloatVector pair(FloatVector a, FloatVector b, VectorShuffle<Float> x, VectorMask<Float> m) {
        return a.blend(b, m).add(b.blend(a, m).rearrange(x));
    }

    /** Every lane: v_i + v_(i^s). */
    static FloatVector self(FloatVector v, VectorShuffle<Float> x) {
        return v.add(v.rearrange(x));
    }

    /**
     * Where three pair levels (and with 16 lanes a self step) leave accumulator j = j0 + 2*j1 + 4*j2
     * of eight: lane j0*L/2 + j1*L/4 + j2*L/8 (used only when {@link #FOLD}: L is 8 or 16).
     */
    private static final int[] FOLD8_LANE = fold8Lanes();

    private static int[] fold8Lanes() {
        int l = F.length();
        int[] lanes = new int[8];
        for (int j = 0; j < 8; j++) {
            lanes[j] = (j & 1) * (l / 2) + ((j >> 1) & 1) * (l / 4) + ((j >> 2) & 1) * (l / 8);
        }
        return lanes;
    }

    static float laneOrderSum(FloatVector v, float[] tmp, int slot) {
        int at = slot * F.length();
        v.intoArray(tmp, at);
        float s = 0f;
        for (int i = 0; i < F.length(); i++) {
            s += tmp[at + i];
        }
        return s;
    }

    /**
     * Sums of the 16 accumulators of a tile parked in {@code tmp[j*L ..]}, j = row << actBits | act,
     * into {@code out[o + act*stride + row*rowStride]} (4x4 tiles: actBits 2; 3x8 tiles: 3), for
     * j < count. Each accumulator is folded by the same tree whatever its neighbours hold, so a
     * partial tile can leave the unused slots as they are. Pair levels put accumulator j = j0 + 2*j1 + 4*j2 + 8*j3
     * in lane j0*L/2 + j1*L/4 + j2*L/8 (+ j3 with 16 lanes; with 8 lanes j3 picks one of two vectors).
     */
    static void sum16(float[] tmp, float[] out, int o, int stride, int actBits, int rowStride, int count) {
        int l = F.length();
        int actMask = (1 << actBits) - 1;
        if (!FOLD) {
            for (int j = 0; j < count; j++) {
                out[o + (j & actMask) * stride + (j >> actBits) * rowStride] = laneOrderSum(FloatVector.fromArray(F, tmp, j * l), tmp, 16 + j);
            }
            return;
        }
        FloatVector c0 = pair(pair(FloatVector.fromArray(F, tmp, 0), FloatVector.fromArray(F, tmp, l), X1, M1),
                pair(FloatVector.fromArray(F, tmp, 2 * l), FloatVector.fromArray(F, tmp, 3 * l), X1, M1), X2, M2);
        FloatVector c1 = pair(pair(FloatVector.fromArray(F, tmp, 4 * l), FloatVector.fromArray(F, tmp, 5 * l), X1, M1),
                pair(FloatVector.fromArray(F, tmp, 6 * l), FloatVector.fromArray(F, tmp, 7 * l), X1, M1), X2, M2);
        FloatVector c2 = pair(pair(FloatVector.fromArray(F, tmp, 8 * l), FloatVector.fromArray(F, tmp, 9 * l), X1, M1),
                pair(FloatVector.fromArray(F, tmp, 10 * l), FloatVector.fromArray(F, tmp, 11 * l), X1, M1), X2, M2);
        FloatVector c3 = pair(pair(FloatVector.fromArray(F, tmp, 12 * l), FloatVector.fromArray(F, tmp, 13 * l), X1, M1),
                pair(FloatVector.fromArray(F, tmp, 14 * l), FloatVector.fromArray(F, tmp, 15 * l), X1, M1), X2, M2);
        FloatVector e0 = pair(c0, c1, X3, M3);
        FloatVector e1 = pair(c2, c3, X3, M3);
        int at = 16 * l;
        if (l == 16) {
            pair(e0, e1, X4, M4).intoArray(tmp, at);
        } else {
            e0.intoArray(tmp, at);
            e1.intoArray(tmp, at + l);
        }
        int l1 = l / 2;
        int l2 = l / 4;
        int l3 = l / 8;
        int rowStep3 = l == 16 ? 1 : l;
        for (int j = 0; j < count; j++) {
            int lane = at + (j & 1) * l1 + ((j >> 1) & 1) * l2 + ((j >> 2) & 1) * l3 + (j >> 3) * rowStep3;
            out[o + (j & actMask) * stride + (j >> actBits) * rowStride] = tmp[lane];
        }
    }

    /**
     * Sums of a 3x8 tile's 24 accumulators parked in {@code tmp[j*L ..]} (j = row*8 + act) into
     * {@code out[o + act*stride + row*rowStride]}: three 8-accumulator fold trees, constant lanes.
     * A separate method because the tile's own is at C2's size limits (the tree written out there
     * made the Vector API calls fall back to Java, 30x slower); specialized because the generic
     * {@link #sum16}'s index arithmetic cost a quarter of the tile's time at 1152 columns (hot, one
     * core: 107 -> 139 GFLOP/s without it).
     */
    static void sum3x8(float[] tmp, float[] out, int o, int stride, int rowStride) {
        int l = F.length();
        int at = 24 * l;
        for (int r = 0; r < 3; r++) {
            int b = r * 8 * l;
            FloatVector e = pair(pair(pair(FloatVector.fromArray(F, tmp, b), FloatVector.fromArray(F, tmp, b + l), X1, M1),
                            pair(FloatVector.fromArray(F, tmp, b + 2 * l), FloatVector.fromArray(F, tmp, b + 3 * l), X1, M1), X2, M2),
                    pair(pair(FloatVector.fromArray(F, tmp, b + 4 * l), FloatVector.fromArray(F, tmp, b + 5 * l), X1, M1),
                            pair(FloatVector.fromArray(F, tmp, b + 6 * l), FloatVector.fromArray(F, tmp, b + 7 * l), X1, M1), X2, M2),
                    X3, M3);
            (l == 16 ? self(e, X4) : e).intoArray(tmp, at + r * l);
        }
        for (int r = 0; r < 3; r++) {
            int row = o + r * rowStride;
            int from = at + r * l;
            out[row] = tmp[from + FOLD8_LANE[0]];
            out[row + stride] = tmp[from + FOLD8_LANE[1]];
            out[row + 2 * stride] = tmp[from + FOLD8_LANE[2]];
            out[row + 3 * stride] = tmp[from + FOLD8_LANE[3]];
            out[row + 4 * stride] = tmp[from + FOLD8_LANE[4]];
            out[row + 5 * stride] = tmp[from + FOLD8_LANE[5]];
            out[row + 6 * stride] = tmp[from + FOLD8_LANE[6]];
            out[row + 7 * stride] = tmp[from + FOLD8_LANE[7]];
        }
    }

    /** The widened (not yet scaled) sub-vector {@code h} of the 32 quants at byte {@code at}. */
    private static FloatVector weights(MemorySegment q, long at, int h) {
        if (PARTS_PER_LOAD == 1) {
            // the usual case (AVX2, AVX-512): a constant part 0, so the conversion is intrinsified
            ByteVector b = ByteVector.fromMemorySegment(B, q, at + (long) h * B.length(), LE);
            return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
        }
        ByteVector b = ByteVector.fromMemorySegment(B, q, at + (long) (h / PARTS_PER_LOAD) * B.length(), LE);
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, h % PARTS_PER_LOAD);
    }

    /** The widened (not yet scaled) L quants at byte {@code at} (a multiple of L). */
    private static FloatVector weightsAt(MemorySegment q, long at) {
        if (PARTS_PER_LOAD == 1) {
            return (FloatVector) ByteVector.fromMemorySegment(B, q, at, LE).convertShape(VectorOperators.B2F, F, 0);
        }
        // 128-bit vectors: 8 bytes loaded, widened by halves; constant parts keep both intrinsified
        ByteVector b = ByteVector.fromMemorySegment(B, q, at & -B.length(), LE);
        return (FloatVector) ((at & (B.length() - 1)) == 0 ? b.convertShape(VectorOperators.B2F, F, 0)
                : b.convertShape(VectorOperators.B2F, F, 1));
    }

    static float scale(MemorySegment sc, long at) {
        return sc.get(Q8Matrix.SCALE, at);
    }

    /** One weight row, one activation row. */
    private static float q8Tile1x1(MemorySegment q, MemorySegment sc, long qb, long sb, int cols, float[] x, int xa, float[] tmp) {
        int lanes = F.length();
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK, sb += SCALE_BYTES) {
            FloatVector d = FloatVector.broadcast(F, scale(sc, sb));
            for (int h = 0; h < BLOCK / lanes; h++) {
                acc = weights(q, qb, h).mul(d).fma(FloatVector.fromArray(F, x, xa + k + h * lanes), acc);
            }
        }
        if (!FOLD) {
            return laneOrderSum(acc, tmp, 0);
        }
        acc = self(self(self(acc, X1), X2), X3);
        return (F.length() == 16 ? self(acc, X4) : acc).lane(0);
    }

    /**
     * Rows {@code from + t + j*quarter} (j = 0..3, t < quarter) against one activation row: the
     * decode (matrix x vector) kernel. The whole loop nest in one method: C2 compiles it as one
     * unit (measured 10% faster than calling a 4-row tile method per step).
     */
    private static void q8Quarters(MemorySegment q, MemorySegment sc, int from, int quarter, int cols, float[] x, int xa,
                                   float[] out, int oa, float[] tmp) {
        int lanes = F.length();
        long qStride = (long) quarter * cols;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        long sStride = quarter * sRow;
        for (int t = 0; t < quarter; t++) {
            int i = from + t;
            long qb = (long) i * cols;
            long sb = i * sRow;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int k = 0; k < cols; k += BLOCK, qb += BLOCK, sb += SCALE_BYTES) {
                FloatVector d0 = FloatVector.broadcast(F, scale(sc, sb));
                FloatVector d1 = FloatVector.broadcast(F, scale(sc, sb + sStride));
                FloatVector d2 = FloatVector.broadcast(F, scale(sc, sb + 2 * sStride));
                FloatVector d3 = FloatVector.broadcast(F, scale(sc, sb + 3 * sStride));
                for (int h = 0; h < BLOCK / lanes; h++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xa + k + h * lanes);
                    acc0 = weights(q, qb, h).mul(d0).fma(xv, acc0);
                    acc1 = weights(q, qb + qStride, h).mul(d1).fma(xv, acc1);
                    acc2 = weights(q, qb + 2 * qStride, h).mul(d2).fma(xv, acc2);
                    acc3 = weights(q, qb + 3 * qStride, h).mul(d3).fma(xv, acc3);
                }
            }
            int o = oa + i;
            if (!FOLD) {
                out[o] = laneOrderSum(acc0, tmp, 0);
                out[o + quarter] = laneOrderSum(acc1, tmp, 1);
                out[o + 2 * quarter] = laneOrderSum(acc2, tmp, 2);
                out[o + 3 * quarter] = laneOrderSum(acc3, tmp, 3);
                continue;
            }
            FloatVector v = pair(pair(acc0, acc1, X1, M1), pair(acc2, acc3, X1, M1), X2, M2);
            v = self(v, X3);
            (F.length() == 16 ? self(v, X4) : v).intoArray(tmp, 0);
            out[o] = tmp[0];
            out[o + quarter] = tmp[F.length() / 2];
            out[o + 2 * quarter] = tmp[F.length() / 4];
            out[o + 3 * quarter] = tmp[F.length() / 2 + F.length() / 4];
        }
    }

    /**
     * Rows [from, to) against eight activation rows: 3x8 register tiles (24 accumulators; per step
     * of L columns 3 weight loads, widened and scaled once, and 8 activation loads feed 24 FMAs).
     * Against a 4x4 tile this converts each weight vector once per 8 activation rows instead of 4,
     * and each activation load feeds 3 FMAs: batched decode of 8 sequences is bound by exactly
     * these. The tile's rows come from the three thirds of the range (three prefetched streams),
     * and the whole loop nest is one method (see {@link #q8Quarters}). The activations come
     * interleaved ({@link #interleave8}), and the loop steps one vector at a time, reloading the
     * block's scale per step (a broadcast load): stepping a whole block kept 6 weight vectors and 3
     * scales live beside the 24 accumulators, and C2 spilled accumulators to the stack. Rows left
     * over go through 1x4 tiles.
     */
    private static void q8Tiles3x8(MemorySegment q, MemorySegment sc, int from, int to, int cols, MemorySegment x8, long xg,
                                   float[] x, int xa, float[] out, int oa, int outStride, float[] tmp) {
        int lanes = F.length();
        long vecBytes = (long) lanes * Float.BYTES;
        long sRow = Q8Matrix.scaleRowBytes(cols);
        int third = (to - from) / 3;
        long qThird = (long) third * cols;
        long sThird = third * sRow;
        for (int i = from; i < from + third; i++) {
            long qb = (long) i * cols;
            long sb = i * sRow;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
            long xk = xg;
            // long k: an int one cost a sign extension per address (C2 cannot prove k + offset fits)
            for (long k = 0; k < cols; k += lanes, xk += 8 * vecBytes) {
                long s = sb + (k >> BLOCK_SHIFT) * SCALE_BYTES;
                long qk = qb + k;
                FloatVector w0 = weightsAt(q, qk).mul(scale(sc, s));
                FloatVector w1 = weightsAt(q, qk + qThird).mul(scale(sc, s + sThird));
                FloatVector w2 = weightsAt(q, qk + 2 * qThird).mul(scale(sc, s + 2 * sThird));
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
            // 4 lanes: lane-order sums through scratch, two rows of accumulators, then the third
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
            long qb = (long) i * cols;
            long sb = i * sRow;
            q8Tile1x4(q, sc, qb, sb, cols, x, xa, out, oa + i, outStride, tmp);
            q8Tile1x4(q, sc, qb, sb, cols, x, xa + 4 * cols, out, oa + i + 4 * outStride, outStride, tmp);
        }
    }

    /** One weight row, four activation rows (weight-row remainder of the 4x4 tiles). */
    private static void q8Tile1x4(MemorySegment q, MemorySegment sc, long qb, long sb, int cols, float[] x, int xa,
                                  float[] out, int o, int outStride, float[] tmp) {
        int lanes = F.length();
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK, sb += SCALE_BYTES) {
            FloatVector d = FloatVector.broadcast(F, scale(sc, sb));
            for (int h = 0; h < BLOCK / lanes; h++) {
                FloatVector wv = weights(q, qb, h).mul(d);
                int xk = xa + k + h * lanes;
                acc0 = wv.fma(FloatVector.fromArray(F, x, xk), acc0);
                acc1 = wv.fma(FloatVector.fromArray(F, x, xk + cols), acc1);
                acc2 = wv.fma(FloatVector.fromArray(F, x, xk + 2 * cols), acc2);
                acc3 = wv.fma(FloatVector.fromArray(F, x, xk + 3 * cols), acc3);
            }
        }
        // Fold: two pair steps put accumulator j's partial sums in the lanes whose bits L/2 and
        // L/4 are (j & 1, j >> 1); self steps finish each group. Inline: a call would box the vectors.
        if (!FOLD) {
            out[o] = laneOrderSum(acc0, tmp, 0);
            out[o + outStride] = laneOrderSum(acc1, tmp, 1);
            out[o + 2 * outStride] = laneOrderSum(acc2, tmp, 2);
            out[o + 3 * outStride] = laneOrderSum(acc3, tmp, 3);
            return;
        }
        FloatVector v = pair(pair(acc0, acc1, X1, M1), pair(acc2, acc3, X1, M1), X2, M2);
        v = self(v, X3);
        (F.length() == 16 ? self(v, X4) : v).intoArray(tmp, 0);
        out[o] = tmp[0];
        out[o + outStride] = tmp[F.length() / 2];
        out[o + 2 * outStride] = tmp[F.length() / 4];
        out[o + 3 * outStride] = tmp[F.length() / 2 + F.length() / 4];
    }

    /**
     * Four weight rows x four activation rows: 16 accumulators; per half-block 4 weight loads
     * (widened and scaled once) and 4 activation loads feed 16 FMAs: groups of four to seven
     * activation rows (eight go through {@link #q8Tiles3x8}).
     */
    private static void q8Tile4x4(MemorySegment q, MemorySegment sc, long qb, long sb, long qRow, long sRow,
                                  int cols, float[] x, int xa, float[] out, int o, int outStride, int rowStride, float[] tmp) {
        int lanes = F.length();
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int k = 0; k < cols; k += BLOCK, qb += BLOCK, sb += SCALE_BYTES) {
            FloatVector d0 = FloatVector.broadcast(F, scale(sc, sb));
            FloatVector d1 = FloatVector.broadcast(F, scale(sc, sb + sRow));
            FloatVector d2 = FloatVector.broadcast(F, scale(sc, sb + 2 * sRow));
            FloatVector d3 = FloatVector.broadcast(F, scale(sc, sb + 3 * sRow));
            for (int h = 0; h < BLOCK / lanes; h++) {
                int xk = xa + k + h * lanes;
                FloatVector x0 = FloatVector.fromArray(F, x, xk);
                FloatVector x1 = FloatVector.fromArray(F, x, xk + cols);
                FloatVector x2 = FloatVector.fromArray(F, x, xk + 2 * cols);
                FloatVector x3 = FloatVector.fromArray(F, x, xk + 3 * cols);
                FloatVector w0 = weights(q, qb, h).mul(d0);
                a00 = w0.fma(x0, a00);
                a01 = w0.fma(x1, a01);
                a02 = w0.fma(x2, a02);
                a03 = w0.fma(x3, a03);
                FloatVector w1 = weights(q, qb + qRow, h).mul(d1);
                a10 = w1.fma(x0, a10);
                a11 = w1.fma(x1, a11);
                a12 = w1.fma(x2, a12);
                a13 = w1.fma(x3, a13);
                FloatVector w2 = weights(q, qb + 2 * qRow, h).mul(d2);
                a20 = w2.fma(x0, a20);
                a21 = w2.fma(x1, a21);
                a22 = w2.fma(x2, a22);
                a23 = w2.fma(x3, a23);
                FloatVector w3 = weights(q, qb + 3 * qRow, h).mul(d3);
                a30 = w3.fma(x0, a30);
                a31 = w3.fma(x1, a31);
                a32 = w3.fma(x2, a32);
                a33 = w3.fma(x3, a33);
            }
        }
        // Parked in scratch and summed by a separate method: inlining the fold here would exceed
        // C2's inlining budget for this (already large) method, and a call with 16 vector
        // arguments would box them.
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

    /** F32 weights (any width): one weight row against each activation row, vector body plus scalar tail. */
    private static void f32Rows(F32Matrix w, float[] x, int xOff, float[] out, int outOff, int n, int from, int to) {
        MemorySegment seg = w.data();
        int cols = w.cols();
        int rows = w.rows();
        int lanes = F.length();
        int vecCols = cols / lanes * lanes;
        float[] tmp = SCRATCH.get();
        for (int a = 0; a < n; a++) {
            int xa = xOff + a * cols;
            for (int i = from; i < to; i++) {
                long base = (long) i * cols * Float.BYTES;
                FloatVector acc = FloatVector.zero(F);
                int k = 0;
                for (; k < vecCols; k += lanes) {
                    FloatVector wv = FloatVector.fromMemorySegment(F, seg, base + (long) k * Float.BYTES, LE);
                    acc = wv.fma(FloatVector.fromArray(F, x, xa + k), acc);
                }
                float sum;
                if (FOLD) {
                    acc = self(self(self(acc, X1), X2), X3);
                    sum = (F.length() == 16 ? self(acc, X4) : acc).lane(0);
                } else {
                    sum = laneOrderSum(acc, tmp, 0);
                }
                for (; k < cols; k++) {
                    sum += seg.get(F32Matrix.F32, base + (long) k * Float.BYTES) * x[xa + k];
                }
                out[outOff + a * rows + i] = sum;
            }
        }
    }
}
