package catena.shard.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.tensor.Matrix;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every vectorized matmul path against {@link ScalarKernels}: Q8_0 (4x4, 4x1, 1x4, 1x1 tiles and
 * their remainders) and F32 (any width), through {@link MatMul} (the pool and the inline path).
 */
class MatMulTest {
    private static final Arena ARENA = Arena.ofShared();
    private static final int[] NS = {1, 2, 3, 5, 8, 17};

    @AfterAll
    static void close() {
        ARENA.close();
    }

    static RandomGenerator rnd(long seed) {
        return RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
    }

    /** rows x cols: rows not multiples of the tile height, cols from one block to 4096. */
    static java.util.stream.Stream<Arguments> q8Shapes() {
        return java.util.stream.Stream.of(
                Arguments.of(1, 32), Arguments.of(3, 64), Arguments.of(5, 96), Arguments.of(7, 160),
                Arguments.of(13, 1152), Arguments.of(67, 4096), Arguments.of(301, 1152), Arguments.of(130, 6912));
    }

    static java.util.stream.Stream<Arguments> f32Shapes() {
        return java.util.stream.Stream.of(
                Arguments.of(1, 1), Arguments.of(3, 7), Arguments.of(5, 31), Arguments.of(6, 33),
                Arguments.of(9, 172), Arguments.of(11, 1152), Arguments.of(300, 1153));
    }

    @ParameterizedTest(name = "Q8_0 {0}x{1}")
    @MethodSource("q8Shapes")
    void shouldMatchScalarWhenQ8(int rows, int cols) {
        RandomGenerator rnd = rnd(rows * 31L + cols);
        Matrix w = KernelFixtures.randomQ8(ARENA, rnd, rows, cols);
        for (int n : NS) {
            checkMatMul(w, rnd, n);
        }
    }

    @ParameterizedTest(name = "F32 {0}x{1}")
    @MethodSource("f32Shapes")
    void shouldMatchScalarWhenF32(int rows, int cols) {
        RandomGenerator rnd = rnd(rows * 17L + cols);
        Matrix w = KernelFixtures.randomF32(ARENA, rnd, rows, cols);
        for (int n : NS) {
            checkMatMul(w, rnd, n);
        }
    }

    @Test
    void shouldWriteOnlyItsOutputRangeWhenOffsetsAreNonZero() {
        RandomGenerator rnd = rnd(7);
        Matrix w = KernelFixtures.randomQ8(ARENA, rnd, 301, 1152);
        int n = 3;
        int xOff = 5;
        int outOff = 11;
        float[] x = KernelFixtures.randomFloats(rnd, xOff + n * w.cols() + 4);
        float[] expected = new float[outOff + n * w.rows() + 9];
        float[] actual = new float[expected.length];
        Arrays.fill(expected, 42f);
        Arrays.fill(actual, 42f);
        ScalarKernels.matmul(w, x, xOff, expected, outOff, n);
        MatMul.matmul(w, x, xOff, actual, outOff, n);
        assertThat(Arrays.copyOfRange(actual, 0, outOff)).containsOnly(42f);
        assertThat(Arrays.copyOfRange(actual, outOff + n * w.rows(), actual.length)).containsOnly(42f);
        assertClose(w, x, xOff, n, expected, actual, outOff);
    }

    @Test
    void shouldGiveBitIdenticalResultsBeforeAndAfterTheKernelsAreCompiled() {
        // The first calls run interpreted or in C1 (the Vector API's Java fallback), later ones C2
        // code: sums use a fixed order so both agree exactly (replicas must reproduce logits).
        RandomGenerator rnd = rnd(5);
        Matrix w = KernelFixtures.randomQ8(ARENA, rnd, 9, 64);
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

    @Test
    void shouldGiveEachRowBitIdenticalResultsWhateverTheBatch() {
        // decode (n=1) and a re-prefill of the same rows (n>1: 4x4 tiles, 3x8 tiles over
        // interleaved activations, and their remainders) must agree exactly
        RandomGenerator rnd = rnd(11);
        Matrix[] ws = {KernelFixtures.randomQ8(ARENA, rnd, 13, 96), KernelFixtures.randomQ8(ARENA, rnd, 301, 1152),
                KernelFixtures.randomF32(ARENA, rnd, 6, 37)};
        for (Matrix w : ws) {
            for (int n : new int[] {7, 8, 17}) {
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
    void shouldComputeSeveralMatricesInOneRunExactlyAsOneByOne() {
        // q/k/v and gate/up share one pool run; every row, across the guided chunks of all three
        // matrices (sizes that leave partial chunks and tile remainders), must equal a lone matmul.
        RandomGenerator rnd = rnd(5);
        Matrix a = KernelFixtures.randomQ8(ARENA, rnd, 1030, 1152);
        Matrix b = KernelFixtures.randomQ8(ARENA, rnd, 257, 1152);
        Matrix c = KernelFixtures.randomQ8(ARENA, rnd, 66, 1152);
        for (int n : new int[] {1, 5}) {
            float[] x = KernelFixtures.randomFloats(rnd, n * 1152);
            float[][] alone = new float[3][];
            float[][] together = new float[3][];
            Matrix[] ws = {a, b, c};
            for (int m = 0; m < 3; m++) {
                alone[m] = new float[n * ws[m].rows()];
                MatMul.matmul(ws[m], x, alone[m], n);
                together[m] = new float[n * ws[m].rows()];
                Arrays.fill(together[m], Float.NaN);
            }
            MatMul.matmul3(a, together[0], b, together[1], c, together[2], x, n);
            for (int m = 0; m < 3; m++) {
                assertThat(together[m]).as("matmul3 n=%d matrix %d", n, m).containsExactly(alone[m]);
                Arrays.fill(together[m], Float.NaN);
            }
            MatMul.matmul2(b, together[1], a, together[0], x, n);
            assertThat(together[0]).as("matmul2 n=%d", n).containsExactly(alone[0]);
            assertThat(together[1]).as("matmul2 n=%d", n).containsExactly(alone[1]);
        }
        Matrix narrow = KernelFixtures.randomQ8(ARENA, rnd, 4, 64);
        assertThatThrownBy(() -> MatMul.matmul2(a, new float[1030], narrow, new float[4], new float[1152], 1))
                .hasMessageContaining("needs equal widths, got 1030x1152 and 4x64");
    }

    @Test
    void shouldRejectArraysTooShortForTheShape() {
        Matrix w = KernelFixtures.randomQ8(ARENA, rnd(1), 4, 64);
        assertThatThrownBy(() -> MatMul.matmul(w, new float[127], new float[8], 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("matmul shapes: W=4x64, n=2, x.length=127 (xOff=0), out.length=8 (outOff=0),"
                        + " expected x >= xOff+n*cols and out >= outOff+n*rows");
    }

    @Test
    void shouldStayCorrectWhenCalledFromSeveralThreadsAtOnce() throws Exception {
        RandomGenerator rnd = rnd(99);
        Matrix w = KernelFixtures.randomQ8(ARENA, rnd, 517, 1152);
        int n = 2;
        Thread[] threads = new Thread[4];
        float[][] xs = new float[threads.length][];
        float[][] results = new float[threads.length][n * w.rows()];
        for (int t = 0; t < threads.length; t++) {
            // each caller its own input: a chunk run with another caller's task would show
            float[] x = KernelFixtures.randomFloats(rnd, n * w.cols());
            float[] out = results[t];
            xs[t] = x;
            threads[t] = new Thread(() -> {
                for (int rep = 0; rep < 50; rep++) {
                    Arrays.fill(out, Float.NaN);
                    MatMul.matmul(w, x, out, n);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        for (int t = 0; t < threads.length; t++) {
            float[] expected = new float[n * w.rows()];
            ScalarKernels.matmul(w, xs[t], 0, expected, 0, n);
            assertClose(w, xs[t], 0, n, expected, results[t], 0);
        }
    }

    static void checkMatMul(Matrix w, RandomGenerator rnd, int n) {
        float[] x = KernelFixtures.randomFloats(rnd, n * w.cols());
        float[] expected = new float[n * w.rows()];
        float[] actual = new float[n * w.rows()];
        ScalarKernels.matmul(w, x, 0, expected, 0, n);
        MatMul.matmul(w, x, 0, actual, 0, n);
        assertClose(w, x, 0, n, expected, actual, 0);
    }

    static void assertClose(Matrix w, float[] x, int xOff, int n, float[] expected, float[] actual, int outOff) {
        float[] row = new float[w.cols()];
        for (int i = 0; i < w.rows(); i++) {
            w.row(i, row, 0);
            for (int r = 0; r < n; r++) {
                int o = outOff + r * w.rows() + i;
                double tol = KernelFixtures.bound(w.cols(), KernelFixtures.absDot(row, x, xOff + r * w.cols()));
                assertThat((double) actual[o])
                        .as("%dx%d n=%d: output row %d of activation row %d", w.rows(), w.cols(), n, i, r)
                        .isCloseTo(expected[o], org.assertj.core.data.Offset.offset(tol));
            }
        }
    }
}
