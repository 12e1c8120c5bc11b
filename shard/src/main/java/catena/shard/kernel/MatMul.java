package catena.shard.kernel;

import catena.shard.tensor.Matrix;

/**
 * {@code y = W x} for {@code n} activation rows at once: for every r in [0, n) and output i,
 * {@code out[outOff + r*W.rows + i] = dot(W row i, x[xOff + r*W.cols ...])}. One weight pass serves
 * all n rows, which is what makes prefill and batched decode cheaper per token than decode.
 */
public final class MatMul {
    private MatMul() {
    }

    public static void matmul(Matrix w, float[] x, int xOff, float[] out, int outOff, int n) {
        ScalarKernels.matmul(w, x, xOff, out, outOff, n);
    }

    public static void matmul(Matrix w, float[] x, float[] out, int n) {
        matmul(w, x, 0, out, 0, n);
    }
}
