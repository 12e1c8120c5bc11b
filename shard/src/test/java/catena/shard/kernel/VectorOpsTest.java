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
