package catena.shard.kernel;

import catena.shard.tensor.F32Matrix;
import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q4_0;
import catena.shard.tensor.Q8Matrix;
import catena.shard.tensor.Q8_0;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.random.RandomGenerator;

/** Random matrices and the error bound the vector kernels are held to. */
final class KernelFixtures {
    /** Unit roundoff of float32. */
    static final double U = Math.ulp(1.0f) / 2;

    private KernelFixtures() {
    }

    static float[] randomFloats(RandomGenerator rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /**
     * A Q8_0 matrix quantized from Gaussian values with llama.cpp's rounding, written as GGUF blocks
     * one byte past an aligned address and read-only (as a tensor in a mapped file can be), then
     * repacked as the loader does.
     */
    static Q8Matrix randomQ8(Arena arena, RandomGenerator rnd, int rows, int cols) {
        long bytes = (long) rows * (cols / Q8Matrix.BLOCK) * Q8Matrix.BLOCK_BYTES;
        MemorySegment seg = arena.allocate(bytes + 1, 64).asSlice(1, bytes);
        float[] row = new float[cols];
        long rowBytes = bytes / rows;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) rnd.nextGaussian() * 0.05f;
            }
            Q8_0.quantize(row, 0, cols, seg, r * rowBytes);
        }
        return Q8Matrix.fromBlocks(seg.asReadOnly(), rows, cols, arena);
    }

    /** A Q4_0 matrix quantized from Gaussian values as llama.cpp does, from unaligned read-only GGUF blocks. */
    static Q4Matrix randomQ4(Arena arena, RandomGenerator rnd, int rows, int cols) {
        long bytes = (long) rows * (cols / Q4_0.BLOCK) * Q4_0.BLOCK_BYTES;
        MemorySegment seg = arena.allocate(bytes + 1, 64).asSlice(1, bytes);
        float[] row = new float[cols];
        long rowBytes = bytes / rows;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) rnd.nextGaussian() * 0.05f;
            }
            Q4_0.quantize(row, 0, cols, seg, r * rowBytes);
        }
        return Q4Matrix.fromBlocks(seg.asReadOnly(), rows, cols, arena);
    }

    static F32Matrix randomF32(Arena arena, RandomGenerator rnd, int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * 4 + 4, 64).asSlice(4, (long) rows * cols * 4);
        for (long i = 0; i < (long) rows * cols; i++) {
            seg.setAtIndex(F32Matrix.F32, i, (float) rnd.nextGaussian());
        }
        return new F32Matrix(seg.asReadOnly(), rows, cols);
    }

    /**
     * Allowed |vector - scalar| for a length-k dot product whose terms have absolute sum
     * {@code absSum}. Floating-point summation in any order of k terms (each a product, rounded
     * once, and for Q8_0 scaled once more) has error at most gamma(k+2) * absSum with
     * gamma(m) = m*u/(1-m*u) (Higham, Accuracy and Stability, Thm 3.1); the two kernels sum in
     * different orders, so their difference is at most twice that. A worst-case bound, not a
     * tuned constant: typical differences are about sqrt(k) times smaller.
     */
    static double bound(int k, double absSum) {
        double m = k + 2;
        return 2 * m * U / (1 - m * U) * absSum + Float.MIN_NORMAL;
    }

    /** Sum of |w_ij * x_j| over row i: the scale of the rounding error of that output. */
    static double absDot(float[] wRow, float[] x, int xOff) {
        double s = 0;
        for (int j = 0; j < wRow.length; j++) {
            s += Math.abs((double) wRow[j] * x[xOff + j]);
        }
        return s;
    }
}
