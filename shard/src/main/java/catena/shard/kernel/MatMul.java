package catena.shard.kernel;

import catena.shard.tensor.Matrix;

/**
 * {@code y = W x} for {@code n} activation rows at once: for every r in [0, n) and output i,
 * {@code out[outOff + r*W.rows + i] = dot(W row i, x[xOff + r*W.cols ...])}. One weight pass serves
 * all n rows, which is what makes prefill and batched decode cheaper per token than decode.
 *
 * <p>Runs {@link VectorMatMul} on the shared {@link ComputePool}, split by output rows
 * into chunks whose weights fit in L2 (so the activation tiles of a batch reuse them from cache).
 * Small products run on the calling thread: waking the pool costs more than it saves.
 *
 * <p>Thread-safe: concurrent callers get their own task objects (thread-locals); no allocation
 * per call after a thread's first.
 */
public final class MatMul {
    /** Below this many weight bytes x activation rows a product runs on the calling thread. */
    static final long INLINE_WORK_BYTES = 96 * 1024;
    /**
     * Target weight bytes per chunk for one activation row: small, so that a participant delayed by
     * another process holds little work hostage.
     */
    static final long CHUNK_BYTES = 64 * 1024;
    /**
     * Target weight bytes per chunk for several rows: fits in L2 with an activation tile, and large
     * enough that the activations (re-read once per chunk) cost little next to the weights.
     */
    static final long BATCH_CHUNK_BYTES = 256 * 1024;
    /** Chunks per participant thread at least, when rows allow (dynamic load balancing). */
    static final int CHUNKS_PER_THREAD = 8;

    private static final ThreadLocal<Task> TASKS = ThreadLocal.withInitial(Task::new);

    private MatMul() {
    }

    public static void matmul(Matrix w, float[] x, int xOff, float[] out, int outOff, int n) {
        int rows = w.rows();
        int cols = w.cols();
        if (n < 0 || xOff < 0 || outOff < 0
                || xOff + (long) n * cols > x.length || outOff + (long) n * rows > out.length) {
            throw new IllegalArgumentException("matmul shapes: W=" + rows + "x" + cols + ", n=" + n
                    + ", x.length=" + x.length + " (xOff=" + xOff + "), out.length=" + out.length
                    + " (outOff=" + outOff + "), expected x >= xOff+n*cols and out >= outOff+n*rows");
        }
        if (n == 0 || rows == 0) {
            return;
        }
        ComputePool pool = ComputePool.shared();
        int threads = pool.threads();
        if (threads == 1 || w.byteSize() * n < INLINE_WORK_BYTES) {
            VectorMatMul.rows(w, x, xOff, out, outOff, n, 0, rows);
            return;
        }
        int chunkRows = chunkRows(rows, w.rowBytes(), threads, n == 1 ? CHUNK_BYTES : BATCH_CHUNK_BYTES);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        Task t = TASKS.get();
        t.set(w, x, xOff, out, outOff, n, chunkRows);
        try {
            pool.run(t, chunks);
        } finally {
            t.clear();
        }
    }

    public static void matmul(Matrix w, float[] x, float[] out, int n) {
        matmul(w, x, 0, out, 0, n);
    }

    /** Rows per chunk: a multiple of the tile height, about chunkBytes of weights, enough chunks to balance. */
    static int chunkRows(int rows, long rowBytes, int threads, long chunkBytes) {
        long byBytes = Math.max(1, chunkBytes / rowBytes);
        long byBalance = Math.max(1, rows / ((long) threads * CHUNKS_PER_THREAD));
        long r = Math.min(byBytes, byBalance);
        r = (r + VectorMatMul.TILE_ROWS - 1) / VectorMatMul.TILE_ROWS * VectorMatMul.TILE_ROWS;
        long minRows = ((long) rows + ComputePool.MAX_CHUNKS - 1) / ComputePool.MAX_CHUNKS;
        return (int) Math.max(r, minRows);
    }

    /** One caller's matmul, reused across calls. */
    private static final class Task implements ComputePool.ChunkTask {
        private Matrix w;
        private float[] x;
        private float[] out;
        private int xOff;
        private int outOff;
        private int n;
        private int chunkRows;

        void set(Matrix w, float[] x, int xOff, float[] out, int outOff, int n, int chunkRows) {
            this.w = w;
            this.x = x;
            this.xOff = xOff;
            this.out = out;
            this.outOff = outOff;
            this.n = n;
            this.chunkRows = chunkRows;
        }

        void clear() {
            w = null;
            x = null;
            out = null;
        }

        @Override
        public void runChunk(int chunk) {
            int from = chunk * chunkRows;
            int to = Math.min(w.rows(), from + chunkRows);
            VectorMatMul.rows(w, x, xOff, out, outOff, n, from, to);
        }
    }
}
