package catena.shard.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.random.RandomGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The vectorized {@link VectorOps} against the scalar loops of {@link ScalarKernels}, with non-zero offsets. */
class VectorOpsTest {

    private static RandomGenerator rnd(int n) {
        return MatMulTest.rnd(1000 + n);
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {0, 1, 15, 31, 32, 33, 256, 1152, 4095, 4096, 6912})
    void shouldMatchScalarDot(int n) {
        RandomGenerator rnd = rnd(n);
        float[] a = KernelFixtures.randomFloats(rnd, n + 3);
        float[] b = KernelFixtures.randomFloats(rnd, n + 5);
        double abs = 0;
        for (int i = 0; i < n; i++) {
            abs += Math.abs((double) a[3 + i] * b[5 + i]);
        }
        // summation order differs (lane-wise partial sums): see KernelFixtures.bound
        assertThat((double) VectorOps.dot(a, 3, b, 5, n))
                .isCloseTo(ScalarKernels.dot(a, 3, b, 5, n), within(KernelFixtures.bound(n, abs)));
    }

    /** The greedy rule as a plain loop: the first index whose value beats everything before it. */
    private static int argmaxLoop(float[] v, int off, int n) {
        int best = 0;
        float bv = v[off];
        for (int i = 1; i < n; i++) {
            if (v[off + i] > bv) {
                bv = v[off + i];
                best = i;
            }
        }
        return best;
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 2, 15, 16, 17, 33, 100, 1000, 262144})
    void argmaxPicksWhatTheGreedyLoopPicks(int n) {
        RandomGenerator rnd = rnd(n + 13);
        for (int trial = 0; trial < 40; trial++) {
            float[] v = new float[n + 5];
            for (int i = 0; i < v.length; i++) {
                // few distinct values, so that ties are common; some NaN, infinities and signed zeros
                v[i] = switch (rnd.nextInt(12)) {
                    case 0 -> Float.NaN;
                    case 1 -> Float.NEGATIVE_INFINITY;
                    case 2 -> -0.0f;
                    case 3 -> 0.0f;
                    case 4 -> trial % 5 == 0 ? Float.POSITIVE_INFINITY : 1f;
                    default -> rnd.nextInt(7) - 5;
                };
            }
            if (trial % 7 == 0) {
                java.util.Arrays.fill(v, Float.NEGATIVE_INFINITY);
            }
            if (trial % 11 == 0) {
                v[3] = Float.NaN;
            }
            assertThat(VectorOps.argmax(v, 3, n)).as("trial %d", trial).isEqualTo(argmaxLoop(v, 3, n));
        }
    }

    /** Grouped-query attention loads a key once for several heads: each head's dot must be exactly dot()'s. */
    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 15, 32, 64, 100, 128, 256, 512})
    void groupedDotsEqualSingleDotsExactly(int n) {
        RandomGenerator rnd = rnd(n + 7);
        int stride = n + 3;
        float[] q = KernelFixtures.randomFloats(rnd, 2 + 4 * stride);
        float[] k = KernelFixtures.randomFloats(rnd, n + 5);
        float[] two = new float[3];
        float[] four = new float[5];
        VectorOps.dot2(q, 2, stride, k, 5, n, two, 1);
        VectorOps.dot4(q, 2, stride, k, 5, n, four, 1);
        for (int h = 0; h < 4; h++) {
            float single = VectorOps.dot(q, 2 + h * stride, k, 5, n);
            assertThat(four[1 + h]).as("dot4 head %d", h).isEqualTo(single);
            if (h < 2) {
                assertThat(two[1 + h]).as("dot2 head %d", h).isEqualTo(single);
            }
        }
    }

    /** Weighted values added to several heads' outputs at once: each exactly as axpy() adds it. */
    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 15, 32, 100, 256})
    void groupedAxpyEqualsSingleAxpyExactly(int n) {
        RandomGenerator rnd = rnd(n + 11);
        float[] x = KernelFixtures.randomFloats(rnd, n + 2);
        float[] alpha = {9f, 0.3f, -1.25f, 0.7f, 2.5f, -0.01f};
        for (int count : new int[] {1, 2, 3, 4}) {
            int stride = n + 4;
            float[] y = KernelFixtures.randomFloats(rnd, 1 + count * stride);
            float[] expected = y.clone();
            for (int h = 0; h < count; h++) {
                VectorOps.axpy(alpha[1 + h], x, 2, expected, 1 + h * stride, n);
            }
            VectorOps.axpyN(alpha, 1, count, x, 2, y, 1, stride, n);
            assertThat(y).as("count=%d", count).containsExactly(expected);
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {0, 1, 15, 31, 32, 33, 256, 1152, 4095, 4096, 6912})
    void shouldMatchScalarAxpyWithinOneRounding(int n) {
        RandomGenerator rnd = rnd(n);
        float[] x = KernelFixtures.randomFloats(rnd, n + 2);
        float[] y = KernelFixtures.randomFloats(rnd, n + 9);
        float[] expected = y.clone();
        ScalarKernels.axpy(0.37f, x, 2, expected, 7, n);
        VectorOps.axpy(0.37f, x, 2, y, 7, n);
        // The scalar path rounds twice (alpha*x, then +y), the vector fma once: the results differ by
        // at most one ulp of the sum plus the product's rounding, u*|alpha*x| (doubles here, because
        // AssertJ measures float differences on their decimal strings).
        for (int i = 0; i < y.length; i++) {
            double product = i >= 7 && i < 7 + n ? 0.37f * x[i - 5] : 0.0;
            double tol = Math.ulp(Math.abs(expected[i])) + KernelFixtures.U * Math.abs(product);
            assertThat((double) y[i]).as("y[%d]", i).isCloseTo(expected[i], within(tol));
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {0, 1, 15, 31, 32, 33, 256, 1152, 4095, 4096, 6912})
    void shouldMatchScalarSumSquares(int n) {
        RandomGenerator rnd = rnd(n);
        float[] x = KernelFixtures.randomFloats(rnd, n + 1);
        double expected = ScalarKernels.sumSquares(x, 1, n);
        // double accumulation of exact float squares: order changes only double roundings
        assertThat(VectorOps.sumSquares(x, 1, n)).isCloseTo(expected, within(2 * (n + 1) * Math.ulp(1.0) / 2 * expected + Double.MIN_NORMAL));
    }
}
