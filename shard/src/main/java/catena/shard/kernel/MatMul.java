package catena.shard.kernel;

import catena.shard.tensor.Matrix;
import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * {@code y = W x} for {@code n} activation rows at once: for every r in [0, n) and output i,
 * {@code out[outOff + r*W.rows + i] = dot(W row i, x[xOff + r*W.cols ...])}. One weight pass serves
 * all n rows, which is what makes prefill and batched decode cheaper per token than decode.
 *
 * <p>Runs {@link VectorMatMul} on the shared {@link ComputePool}, split by output rows. Several
 * matrices that read the same x (q/k/v, gate/up) can go in one run ({@link #matmul2},
 * {@link #matmul3}): one barrier instead of three, and the small k and v projections no longer
 * pay a pool round trip each. Small products run on the calling thread: waking the pool costs
 * more than it saves.
 *
 * <p>Thread-safe: concurrent callers get their own task objects (thread-locals); no allocation
 * per call after a thread's first.
 */
public final class MatMul {
    /** Below this many weight bytes x activation rows a product runs on the calling thread. */
    static final long INLINE_WORK_BYTES = 96 * 1024;
    /**
     * Smallest chunk, in weight bytes, for one activation row: the guided chunks shrink to this at
     * the end of a run so that a participant delayed by another process holds little work hostage.
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
        check(w, x, xOff, out, outOff, n);
        Task t = TASKS.get();
        t.add(w, out, outOff);
        t.run(x, xOff, n);
    }

    public static void matmul(Matrix w, float[] x, float[] out, int n) {
        matmul(w, x, 0, out, 0, n);
    }

    /** {@code out1 = W1 x} and {@code out2 = W2 x} (same x, same column count) in one pool run. */
    public static void matmul2(Matrix w1, float[] out1, Matrix w2, float[] out2, float[] x, int n) {
        check(w1, x, 0, out1, 0, n);
        check(w2, x, 0, out2, 0, n);
        sameCols(w1, w2);
        Task t = TASKS.get();
        t.add(w1, out1, 0);
        t.add(w2, out2, 0);
        t.run(x, 0, n);
    }

    /** {@code out_i = W_i x} for three matrices of the same column count in one pool run. */
    public static void matmul3(Matrix w1, float[] out1, Matrix w2, float[] out2, Matrix w3, float[] out3,
                               float[] x, int n) {
        check(w1, x, 0, out1, 0, n);
        check(w2, x, 0, out2, 0, n);
        check(w3, x, 0, out3, 0, n);
        sameCols(w1, w2);
        sameCols(w1, w3);
        Task t = TASKS.get();
        t.add(w1, out1, 0);
        t.add(w2, out2, 0);
        t.add(w3, out3, 0);
        t.run(x, 0, n);
    }

    private static void check(Matrix w, float[] x, int xOff, float[] out, int outOff, int n) {
        int rows = w.rows();
        int cols = w.cols();
        if (n < 0 || xOff < 0 || outOff < 0
                || xOff + (long) n * cols > x.length || outOff + (long) n * rows > out.length) {
            throw new IllegalArgumentException("matmul shapes: W=" + rows + "x" + cols + ", n=" + n
                    + ", x.length=" + x.length + " (xOff=" + xOff + "), out.length=" + out.length
                    + " (outOff=" + outOff + "), expected x >= xOff+n*cols and out >= outOff+n*rows");
        }
    }

    private static void sameCols(Matrix a, Matrix b) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException("matmul of one x by several matrices needs equal widths, got "
                    + a.rows() + "x" + a.cols() + " and " + b.rows() + "x" + b.cols());
        }
    }

    /**
     * Whether the kernel makes a single pass over a chunk's weights for n activation rows (one
     * decode loop, 4x4 or 3x8 tile group): then nothing is reused from L2 and long guided chunks stream
     * best. Otherwise later activation tiles re-read the chunk, which must stay L2-sized.
     */
    static boolean readsWeightsOnce(int n) {
        return n == 1 || n == VectorMatMul.TILE_ACTS || n == 8;
    }

    /** Rows per chunk: a multiple of the tile height, about chunkBytes of weights, enough chunks to balance. */
    static int chunkRows(int rows, long rowBytes, int threads, long chunkBytes, int maxChunks) {
        long byBytes = Math.max(1, chunkBytes / rowBytes);
        long byBalance = Math.max(1, rows / ((long) threads * CHUNKS_PER_THREAD));
        long r = Math.min(byBytes, byBalance);
        r = roundUpToTile(r);
        return (int) Math.max(r, minRows(rows, maxChunks));
    }

    /** Fewest rows per chunk that keep a matrix within {@code maxChunks} chunks. */
    private static long minRows(int rows, int maxChunks) {
        return ((long) rows + maxChunks - 1) / maxChunks;
    }

    private static long roundUpToTile(long r) {
        return (r + VectorMatMul.TILE_ROWS - 1) / VectorMatMul.TILE_ROWS * VectorMatMul.TILE_ROWS;
    }

    /**
     * One caller's matmul run over up to three matrices, reused across calls. Chunk c is rows
     * [from[c], to[c]) of matrix which[c].
     *
     * <p>One activation row (decode) gets guided chunks: each takes 1/(2*threads) of the weight
     * bytes still unclaimed, but at least {@link #CHUNK_BYTES}. Long sequential streams while much is
     * left (the hardware prefetcher ramps up per stream), small ones at the end so that no thread
     * waits long at the barrier. Measured (one decode step of a Gemma-3-1B shape, 2 threads, gate
     * 6912x1152): fixed 64 KiB chunks 16.2 GB/s, fixed 1 MiB 16.7, guided 18.9 (two halves with no
     * barrier at all: 20). Several rows get even L2-sized chunks, which their activation tiles reuse.
     */
    private static final class Task implements ComputePool.ChunkTask {
        private final Matrix[] ws = new Matrix[3];
        private final float[][] outs = new float[3][];
        private final int[] outOffs = new int[3];
        private int count;
        private float[] x;
        private int xOff;
        private int n;
        /** The activation rows' groups of eight, interleaved for the 3x8 tiles; grown, then reused. */
        private MemorySegment x8 = MemorySegment.NULL;
        private MemorySegment x8Now;
        private int[] which = new int[64];
        private int[] from = new int[64];
        private int[] to = new int[64];

        void add(Matrix w, float[] out, int outOff) {
            ws[count] = w;
            outs[count] = out;
            outOffs[count] = outOff;
            count++;
        }

        void run(float[] x, int xOff, int n) {
            try {
                long work = 0;
                for (int m = 0; m < count; m++) {
                    work += ws[m].byteSize();
                }
                if (n == 0 || work == 0) {
                    return;
                }
                x8Now = interleaved(x, xOff, n);
                ComputePool pool = ComputePool.shared();
                int threads = pool.threads();
                if (threads == 1 || work * n < INLINE_WORK_BYTES) {
                    for (int m = 0; m < count; m++) {
                        VectorMatMul.rows(ws[m], x, xOff, x8Now, outs[m], outOffs[m], n, 0, ws[m].rows());
                    }
                    return;
                }
                this.x = x;
                this.xOff = xOff;
                this.n = n;
                int chunks = readsWeightsOnce(n) ? guided(work, threads) : even(threads);
                pool.run(this, chunks);
            } finally {
                Arrays.fill(ws, null);
                Arrays.fill(outs, null);
                this.x = null;
                x8Now = null;
                count = 0;
            }
        }

        /** x's groups of eight rows interleaved (one copy for every chunk and matrix), or null when no Q8_0 or Q4_0 tile needs them. */
        private MemorySegment interleaved(float[] x, int xOff, int n) {
            boolean q8 = false;
            for (int m = 0; m < count; m++) {
                q8 |= ws[m] instanceof Q8Matrix || ws[m] instanceof Q4Matrix;
            }
            if (n < 8 || !q8) {
                return null;
            }
            int cols = ws[0].cols();
            long bytes = VectorMatMul.interleavedBytes(n, cols);
            if (x8.byteSize() < bytes) {
                // grows to the largest batch this thread has run; freed with the task when unreachable
                x8 = Arena.ofAuto().allocate(Math.max(bytes, 2 * x8.byteSize()), 64);
            }
            VectorMatMul.interleave8(x, xOff, n, cols, x8);
            return x8;
        }

        private int guided(long work, int threads) {
            int c = 0;
            long left = work;
            for (int m = 0; m < count; m++) {
                Matrix w = ws[m];
                long rowBytes = w.rowBytes();
                long min = roundUpToTile(Math.max(1, CHUNK_BYTES / rowBytes));
                min = Math.max(min, minRows(w.rows(), ComputePool.MAX_CHUNKS / count));
                for (int at = 0; at < w.rows(); c++) {
                    long size = Math.max(min, roundUpToTile(left / (2L * threads) / rowBytes));
                    int end = (int) Math.min(w.rows(), at + size);
                    chunk(c, m, at, end);
                    left -= (end - at) * rowBytes;
                    at = end;
                }
            }
            return c;
        }

        private int even(int threads) {
            int c = 0;
            for (int m = 0; m < count; m++) {
                Matrix w = ws[m];
                int rows = chunkRows(w.rows(), w.rowBytes(), threads, BATCH_CHUNK_BYTES, ComputePool.MAX_CHUNKS / count);
                for (int at = 0; at < w.rows(); at += rows, c++) {
                    chunk(c, m, at, Math.min(w.rows(), at + rows));
                }
            }
            return c;
        }

        private void chunk(int c, int m, int start, int end) {
            if (c >= which.length) {
                int len = which.length * 2;
                which = Arrays.copyOf(which, len);
                from = Arrays.copyOf(from, len);
                to = Arrays.copyOf(to, len);
            }
            which[c] = m;
            from[c] = start;
            to[c] = end;
        }

        @Override
        public void runChunk(int chunk) {
            int m = which[chunk];
            VectorMatMul.rows(ws[m], x, xOff, x8Now, outs[m], outOffs[m], n, from[chunk], to[chunk]);
        }
    }
}
