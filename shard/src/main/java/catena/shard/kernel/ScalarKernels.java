package catena.shard.kernel;

import catena.shard.tensor.F32Matrix;
import catena.shard.tensor.Matrix;
import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Plain-loop reference of every kernel: the ground truth the vectorized ones are tested against. */
public final class ScalarKernels {
    private ScalarKernels() {
    }

    public static void matmul(Matrix w, float[] x, int xOff, float[] out, int outOff, int n) {
        int rows = w.rows();
        int cols = w.cols();
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < rows; i++) {
                out[outOff + r * rows + i] = dotRow(w, i, x, xOff + r * cols);
            }
        }
    }

    /** Dot product of weight row {@code i} with {@code x[xOff .. xOff+cols)}. */
    public static float dotRow(Matrix w, int i, float[] x, int xOff) {
        return switch (w) {
            case Q8Matrix q -> {
                float sum = 0f;
                for (int b = 0; b < q.cols() / Q8Matrix.BLOCK; b++) {
                    float s = 0f;
                    for (int k = 0; k < Q8Matrix.BLOCK; k++) {
                        int c = b * Q8Matrix.BLOCK + k;
                        s += q.quant(i, c) * x[xOff + c];
                    }
                    sum += s * q.scale(i, b);
                }
                yield sum;
            }
            case Q4Matrix q -> {
                // as the Q8_0 case: the weight (nibble - 8) * d against the f32 activation
                float sum = 0f;
                for (int b = 0; b < q.cols() / Q4Matrix.BLOCK; b++) {
                    float s = 0f;
                    for (int k = 0; k < Q4Matrix.BLOCK; k++) {
                        int c = b * Q4Matrix.BLOCK + k;
                        s += (q.quant(i, c) - 8) * x[xOff + c];
                    }
                    sum += s * q.scale(i, b);
                }
                yield sum;
            }
            case F32Matrix f -> {
                float sum = 0f;
                long base = (long) i * f.cols();
                for (int k = 0; k < f.cols(); k++) {
                    sum += f.data().getAtIndex(F32Matrix.F32, base + k) * x[xOff + k];
                }
                yield sum;
            }
        };
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** {@code y[yOff..] += alpha * x[xOff..]}. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** Sum of squares accumulated in double, as ggml does on the CPU. */
    public static double sumSquares(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) x[off + i] * x[off + i];
        }
        return s;
    }
}
