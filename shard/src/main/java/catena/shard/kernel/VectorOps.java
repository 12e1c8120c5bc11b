package catena.shard.kernel;

import java.util.Objects;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small vector primitives used by attention and the norms, vectorized with the preferred species
 * (a scalar tail handles lengths that are not a multiple of the lane count). Stateless and
 * thread-safe. {@link ScalarKernels} holds the plain-loop versions they are tested against.
 */
public final class VectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles of the same vector width as F: a float vector widens into two of them. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Lane i to lane i^step: the partners of one step of {@link #sumLanes}; null when wider than the vector. */
    private static final VectorShuffle<Float> F8 = xorF(8);
    private static final VectorShuffle<Float> F4 = xorF(4);
    private static final VectorShuffle<Float> F2 = xorF(2);
    private static final VectorShuffle<Float> F1 = xorF(1);
    private static final VectorShuffle<Double> D4 = xorD(4);
    private static final VectorShuffle<Double> D2 = xorD(2);
    private static final VectorShuffle<Double> D1 = xorD(1);

    private VectorOps() {
    }

    /** {@code sum a[aOff+i] * b[bOff+i]} for i in [0, n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        // checked once here: launchers turn the Vector API's own bounds checks off
        Objects.checkFromIndexSize(aOff, n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        int lanes = F.length();
        int i = 0;
        float s = 0f;
        if (n >= 2 * lanes) {
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int bound2 = n - 2 * lanes;
            for (; i <= bound2; i += 2 * lanes) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(F, a, aOff + i + lanes)
                        .fma(FloatVector.fromArray(F, b, bOff + i + lanes), acc1);
            }
            if (i <= n - lanes) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
                i += lanes;
            }
            s = VectorOps.sumLanes(acc0.add(acc1));
        } else if (n >= lanes) {
            s = VectorOps.sumLanes(FloatVector.fromArray(F, a, aOff).mul(FloatVector.fromArray(F, b, bOff)));
            i = lanes;
        }
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * {@code out[outOff+h] = dot(a[aOff + h*aStride ..], b[bOff ..], n)} for h = 0, 1: two query
     * heads against one shared key, each summed exactly as {@link #dot} sums it (bit-identical),
     * with b's vectors loaded once for both.
     */
    public static void dot2(float[] a, int aOff, int aStride, float[] b, int bOff, int n, float[] out, int outOff) {
        int lanes = F.length();
        if (n < 2 * lanes || n % (2 * lanes) != 0) {
            out[outOff] = dot(a, aOff, b, bOff, n);
            out[outOff + 1] = dot(a, aOff + aStride, b, bOff, n);
            return;
        }
        Objects.checkFromIndexSize(aOff, aStride + n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        FloatVector x0 = FloatVector.zero(F);
        FloatVector y0 = x0;
        FloatVector x1 = x0;
        FloatVector y1 = x0;
        int a1 = aOff + aStride;
        for (int i = 0; i < n; i += 2 * lanes) {
            FloatVector b0 = FloatVector.fromArray(F, b, bOff + i);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + i + lanes);
            x0 = FloatVector.fromArray(F, a, aOff + i).fma(b0, x0);
            y0 = FloatVector.fromArray(F, a, aOff + i + lanes).fma(b1, y0);
            x1 = FloatVector.fromArray(F, a, a1 + i).fma(b0, x1);
            y1 = FloatVector.fromArray(F, a, a1 + i + lanes).fma(b1, y1);
        }
        out[outOff] = sumLanes(x0.add(y0));
        out[outOff + 1] = sumLanes(x1.add(y1));
    }

    /** As {@link #dot2} for four heads at {@code aOff + h*aStride}, h = 0..3. */
    public static void dot4(float[] a, int aOff, int aStride, float[] b, int bOff, int n, float[] out, int outOff) {
        int lanes = F.length();
        if (n < 2 * lanes || n % (2 * lanes) != 0) {
            for (int h = 0; h < 4; h++) {
                out[outOff + h] = dot(a, aOff + h * aStride, b, bOff, n);
            }
            return;
        }
        Objects.checkFromIndexSize(aOff, 3 * aStride + n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        FloatVector x0 = FloatVector.zero(F);
        FloatVector y0 = x0;
        FloatVector x1 = x0;
        FloatVector y1 = x0;
        FloatVector x2 = x0;
        FloatVector y2 = x0;
        FloatVector x3 = x0;
        FloatVector y3 = x0;
        int a1 = aOff + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        for (int i = 0; i < n; i += 2 * lanes) {
            FloatVector b0 = FloatVector.fromArray(F, b, bOff + i);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + i + lanes);
            x0 = FloatVector.fromArray(F, a, aOff + i).fma(b0, x0);
            y0 = FloatVector.fromArray(F, a, aOff + i + lanes).fma(b1, y0);
            x1 = FloatVector.fromArray(F, a, a1 + i).fma(b0, x1);
            y1 = FloatVector.fromArray(F, a, a1 + i + lanes).fma(b1, y1);
            x2 = FloatVector.fromArray(F, a, a2 + i).fma(b0, x2);
            y2 = FloatVector.fromArray(F, a, a2 + i + lanes).fma(b1, y2);
            x3 = FloatVector.fromArray(F, a, a3 + i).fma(b0, x3);
            y3 = FloatVector.fromArray(F, a, a3 + i + lanes).fma(b1, y3);
        }
        out[outOff] = sumLanes(x0.add(y0));
        out[outOff + 1] = sumLanes(x1.add(y1));
        out[outOff + 2] = sumLanes(x2.add(y2));
        out[outOff + 3] = sumLanes(x3.add(y3));
    }

    /**
     * {@code y[yOff + h*yStride ..] += alpha[aOff + h] * x[xOff ..]} for h = 0..count-1: each
     * output exactly as {@link #axpy} computes it, with x's vectors loaded once for two or four.
     */
    public static void axpyN(float[] alpha, int aOff, int count, float[] x, int xOff, float[] y, int yOff, int yStride, int n) {
        if (count != 2 && count != 4) {
            for (int h = 0; h < count; h++) {
                axpy(alpha[aOff + h], x, xOff, y, yOff + h * yStride, n);
            }
            return;
        }
        Objects.checkFromIndexSize(xOff, n, x.length);
        Objects.checkFromIndexSize(yOff, (count - 1) * yStride + n, y.length);
        int lanes = F.length();
        int bound = n - lanes;
        int i = 0;
        FloatVector a0 = FloatVector.broadcast(F, alpha[aOff]);
        FloatVector a1 = FloatVector.broadcast(F, alpha[aOff + 1]);
        int y1 = yOff + yStride;
        if (count == 2) {
            for (; i <= bound; i += lanes) {
                FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                v.fma(a0, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
                v.fma(a1, FloatVector.fromArray(F, y, y1 + i)).intoArray(y, y1 + i);
            }
        } else {
            FloatVector a2 = FloatVector.broadcast(F, alpha[aOff + 2]);
            FloatVector a3 = FloatVector.broadcast(F, alpha[aOff + 3]);
            int y2 = y1 + yStride;
            int y3 = y2 + yStride;
            for (; i <= bound; i += lanes) {
                FloatVector v = FloatVector.fromArray(F, x, xOff + i);
                v.fma(a0, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
                v.fma(a1, FloatVector.fromArray(F, y, y1 + i)).intoArray(y, y1 + i);
                v.fma(a2, FloatVector.fromArray(F, y, y2 + i)).intoArray(y, y2 + i);
                v.fma(a3, FloatVector.fromArray(F, y, y3 + i)).intoArray(y, y3 + i);
            }
        }
        for (; i < n; i++) {
            for (int h = 0; h < count; h++) {
                y[yOff + h * yStride + i] += alpha[aOff + h] * x[xOff + i];
            }
        }
    }

    /**
     * The index (from {@code off}) of the first largest of {@code v[off .. off+n)}, exactly as the
     * loop "keep i if v[i] > best so far, starting from v[off]" picks it: NaNs are never picked
     * unless v[off] is one (then 0), and -0.0 ties with 0.0. Two vector passes (the maximum, then
     * its first position) instead of a compare and branch per element: greedy decoding scans a
     * 262k-entry vocabulary per token (scalar ~0.25 ms per row).
     */
    public static int argmax(float[] v, int off, int n) {
        Objects.checkFromIndexSize(off, n, v.length);
        if (n <= 0) {
            throw new IllegalArgumentException("argmax of an empty range");
        }
        float first = v[off];
        if (Float.isNaN(first)) {
            return 0;
        }
        int lanes = F.length();
        int bound = n - lanes;
        FloatVector best = FloatVector.broadcast(F, first);
        int i = 0;
        for (; i <= bound; i += lanes) {
            FloatVector x = FloatVector.fromArray(F, v, off + i);
            best = best.blend(x, x.compare(VectorOperators.GT, best));
        }
        float max = first;
        for (int l = 0; l < lanes; l++) {
            float b = best.lane(l);
            if (b > max) {
                max = b;
            }
        }
        for (; i < n; i++) {
            if (v[off + i] > max) {
                max = v[off + i];
            }
        }
        // first position equal to the maximum (== also matches -0.0 with 0.0, never NaN)
        int j = 0;
        for (; j <= bound; j += lanes) {
            int hit = FloatVector.fromArray(F, v, off + j).compare(VectorOperators.EQ, max).firstTrue();
            if (hit < lanes) {
                return j + hit;
            }
        }
        for (; j < n; j++) {
            if (v[off + j] == max) {
                return j;
            }
        }
        throw new AssertionError("unreachable: the maximum " + max + " is one of the values");
    }

    /** {@code y[yOff..] += alpha * x[xOff..]} over n elements. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Objects.checkFromIndexSize(xOff, n, x.length);
        Objects.checkFromIndexSize(yOff, n, y.length);
        int lanes = F.length();
        int bound = n - lanes;
        int i = 0;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (; i <= bound; i += lanes) {
            FloatVector.fromArray(F, x, xOff + i)
                    .fma(a, FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** Sum of squares accumulated in double, as ggml does on the CPU (each float widened, then squared). */
    public static double sumSquares(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        int lanes = F.length();
        int bound = n - lanes;
        int i = 0;
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        for (; i <= bound; i += lanes) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            DoubleVector lo = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 1);
            acc0 = lo.fma(lo, acc0);
            acc1 = hi.fma(hi, acc1);
        }
        double s = VectorOps.sumLanes(acc0.add(acc1));
        for (; i < n; i++) {
            s += (double) x[off + i] * x[off + i];
        }
        return s;
    }

    /**
     * Sum of the lanes in a fixed pairwise order (lane i + lane i^8, then ^4, ^2, ^1). Unlike
     * {@code reduceLanes(ADD)}, whose order differs between the C2 intrinsic and the interpreted
     * fallback, every step is a lane-wise add, so results are bit-identical whether or not the
     * caller is compiled yet (replicas must reproduce each other's logits). Costs about what the
     * intrinsic does, where a lane-by-lane loop halved the kernels' speed.
     */
    public static float sumLanes(FloatVector v) {
        if (F.length() >= 16) {
            v = v.add(v.rearrange(F8));
        }
        if (F.length() >= 8) {
            v = v.add(v.rearrange(F4));
        }
        v = v.add(v.rearrange(F2));
        v = v.add(v.rearrange(F1));
        return v.lane(0);
    }

    /** Sum of the lanes in a fixed pairwise order (see {@link #sumLanes(FloatVector)}). */
    public static double sumLanes(DoubleVector v) {
        if (D.length() >= 8) {
            v = v.add(v.rearrange(D4));
        }
        if (D.length() >= 4) {
            v = v.add(v.rearrange(D2));
        }
        v = v.add(v.rearrange(D1));
        return v.lane(0);
    }

    private static VectorShuffle<Float> xorF(int step) {
        return F.length() > step ? VectorShuffle.fromOp(F, i -> i ^ step) : null;
    }

    private static VectorShuffle<Double> xorD(int step) {
        return D.length() > step ? VectorShuffle.fromOp(D, i -> i ^ step) : null;
    }
}
