package catena.shard.kernel;

/** Small vector primitives used by attention and the norms. */
public final class VectorOps {
    private VectorOps() {
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
