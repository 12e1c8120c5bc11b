package catena.shard.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    private VectorOps() {
    }

    /** {@code sum a[aOff+i] * b[bOff+i]} for i in [0, n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
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

    /** Sum of the lanes in lane order: reduceLanes may reorder, and does differently compiled vs interpreted. */
    public static float sumLanes(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Sum of the lanes in lane order (see {@link #sumLanes(FloatVector)}). */
    public static double sumLanes(jdk.incubator.vector.DoubleVector v) {
        double s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }
}
