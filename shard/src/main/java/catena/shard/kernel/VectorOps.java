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
