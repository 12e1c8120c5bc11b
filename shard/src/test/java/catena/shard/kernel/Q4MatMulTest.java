package catena.shard.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.tensor.Matrix;
import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Q4_0 weights held as Q4_0: the vector kernels against the scalar twin (within the summation
 * bound), bit for bit against the Q8_0 kernels on the same values ({@link Q4Matrix#toQ8}), and bit
 * for bit across batch shapes and JIT states.
 */
class Q4MatMulTest {
    private static final Arena ARENA = Arena.ofShared();
    private static final int[] NS = {1, 2, 3, 4, 5, 7, 8, 9, 12, 17};

    @AfterAll
    static void close() {
        ARENA.close();
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> shapes() {
        return MatMulTest.q8Shapes();
    }

    @ParameterizedTest(name = "Q4_0 {0}x{1}")
    @MethodSource("shapes")
    void shouldMatchScalarTwinWhenQ4(int rows, int cols) {
        RandomGenerator rnd = MatMulTest.rnd(rows * 13L + cols);
        Matrix w = KernelFixtures.randomQ4(ARENA, rnd, rows, cols);
        for (int n : NS) {
            MatMulTest.checkMatMul(w, rnd, n);
        }
    }

    @ParameterizedTest(name = "Q4_0 {0}x{1}")
    @MethodSource("shapes")
    void shouldEqualQ8KernelsBitForBitWhenGivenTheSameValues(int rows, int cols) {
        RandomGenerator rnd = MatMulTest.rnd(rows * 7L + cols);
        Q4Matrix w = KernelFixtures.randomQ4(ARENA, rnd, rows, cols);
        Q8Matrix wide = w.toQ8(ARENA);
        float[] a = new float[cols];
        float[] b = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.row(r, a, 0);
            wide.row(r, b, 0);
            assertThat(a).as("row %d dequantized", r).containsExactly(b);
        }
        for (int n : NS) {
            float[] x = KernelFixtures.randomFloats(rnd, n * cols);
            float[] q4 = new float[n * rows];
            float[] q8 = new float[n * rows];
            MatMul.matmul(w, x, q4, n);
            MatMul.matmul(wide, x, q8, n);
            assertThat(q4).as("%dx%d n=%d", rows, cols, n).containsExactly(q8);
            // and each chunk shape on the calling thread
            Arrays.fill(q4, Float.NaN);
            VectorMatMul.rows(w, x, 0, q4, 0, n, 0, rows);
            VectorMatMul.rows(wide, x, 0, q8, 0, n, 0, rows);
            assertThat(q4).as("%dx%d n=%d one range", rows, cols, n).containsExactly(q8);
        }
    }

    @Test
    void shouldGiveEachRowBitIdenticalResultsWhateverTheBatch() {
        RandomGenerator rnd = MatMulTest.rnd(23);
        Matrix[] ws = {KernelFixtures.randomQ4(ARENA, rnd, 13, 96), KernelFixtures.randomQ4(ARENA, rnd, 301, 1152),
                KernelFixtures.randomQ4(ARENA, rnd, 130, 6912)};
        for (Matrix w : ws) {
            for (int n : new int[] {4, 7, 8, 17}) {
                float[] x = KernelFixtures.randomFloats(rnd, n * w.cols());
                float[] batched = new float[n * w.rows()];
                MatMul.matmul(w, x, 0, batched, 0, n);
                for (int r = 0; r < n; r++) {
                    float[] single = new float[w.rows()];
                    MatMul.matmul(w, x, r * w.cols(), single, 0, 1);
                    assertThat(Arrays.copyOfRange(batched, r * w.rows(), (r + 1) * w.rows()))
                            .as("activation row %d of %d, %dx%d", r, n, w.rows(), w.cols()).containsExactly(single);
                }
            }
        }
    }

    @Test
    void shouldGiveBitIdenticalResultsBeforeAndAfterTheKernelsAreCompiled() {
        RandomGenerator rnd = MatMulTest.rnd(29);
        Matrix w = KernelFixtures.randomQ4(ARENA, rnd, 9, 64);
        for (int n : new int[] {1, 4, 5, 8, 9}) {
            float[] x = KernelFixtures.randomFloats(rnd, n * w.cols());
            float[] first = new float[n * w.rows()];
            VectorMatMul.rows(w, x, 0, first, 0, n, 0, w.rows());
            float[] later = new float[first.length];
            for (int rep = 0; rep < 20_000; rep++) {
                VectorMatMul.rows(w, x, 0, later, 0, n, 0, w.rows());
            }
            assertThat(later).as("n=%d", n).containsExactly(first);
        }
    }
}
