package catena.shard.kernel;

import catena.shard.tensor.Q4Matrix;
import catena.shard.tensor.Q4_0;
import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Q8_0 and Q4_0 matrices of random content for the benchmarks (values do not change the kernels' speed). */
final class BenchMatrices {
    private BenchMatrices() {
    }

    /** {@code "ROWSxCOLS"} to {rows, cols}. */
    static int[] shape(String s) {
        String[] p = s.split("x");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
    }

    /**
     * Enough copies of a rows x cols Q8_0 matrix to fill {@code totalBytes} (at least one): cycling
     * through them makes every pass read from DRAM, as decode does with a model larger than the caches.
     */
    static Q8Matrix[] q8Copies(Arena arena, int rows, int cols, long totalBytes) {
        long bytes = (long) rows * (cols / Q8Matrix.BLOCK) * Q8Matrix.BLOCK_BYTES;
        Q8Matrix[] ms = new Q8Matrix[copies(bytes, totalBytes)];
        for (int c = 0; c < ms.length; c++) {
            ms[c] = Q8Matrix.fromBlocks(randomBlocks(arena, bytes, Q8Matrix.BLOCK_BYTES, c), rows, cols, arena);
        }
        return ms;
    }

    /** As {@link #q8Copies} for Q4_0 held as 4 bits. */
    static Q4Matrix[] q4Copies(Arena arena, int rows, int cols, long totalBytes) {
        long bytes = (long) rows * (cols / Q4_0.BLOCK) * Q4_0.BLOCK_BYTES;
        Q4Matrix[] ms = new Q4Matrix[copies(bytes, totalBytes)];
        for (int c = 0; c < ms.length; c++) {
            ms[c] = Q4Matrix.fromBlocks(randomBlocks(arena, bytes, Q4_0.BLOCK_BYTES, c), rows, cols, arena);
        }
        return ms;
    }

    private static int copies(long bytes, long totalBytes) {
        return (int) Math.max(1, totalBytes / bytes);
    }

    /**
     * {@code bytes} of GGUF blocks of {@code blockBytes} each: random quants (an LCG seeded by
     * {@code copy}) and every block's f16 scale 0.01.
     */
    private static MemorySegment randomBlocks(Arena arena, long bytes, int blockBytes, int copy) {
        MemorySegment seg = arena.allocate(bytes, 64);
        long seed = 0x9E3779B97F4A7C15L + copy;
        for (long o = 0; o + 8 <= bytes; o += 8) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, o, seed);
        }
        for (long blk = 0; blk < bytes; blk += blockBytes) {
            seg.set(Q8Matrix.F16, blk, Float.floatToFloat16(0.01f));
        }
        return seg;
    }

    static float[] floats(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) Math.sin(i * 0.1);
        }
        return a;
    }
}
