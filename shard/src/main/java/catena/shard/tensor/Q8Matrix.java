package catena.shard.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 weights in the engine's layout: the int8 quants of every row in one array
 * ({@code quants[r*cols + k]}) and the f16 block scales in another ({@code scales[r*cols/32 + b]}).
 * Same values and same bytes as GGUF's 34-byte blocks ({@code [f16 d][32 x int8]}), only apart.
 *
 * <p>Why not use the file's blocks in place: their 34-byte stride leaves every block's quants
 * unaligned and interleaves two kinds of loads in one stream. Measured on the dev VM (cold
 * 6912x1152 matvec, 2 threads, huge pages for both): 18.0 GB/s interleaved, 22.1 GB/s apart, with
 * the bandwidth probe at 24. Loading repacks once (see {@link Weights}).
 */
public record Q8Matrix(MemorySegment quants, MemorySegment scales, int rows, int cols) implements Matrix {
    public static final int BLOCK = 32;
    /** Bytes of one GGUF Q8_0 block: the f16 scale and 32 quants. */
    public static final int BLOCK_BYTES = 34;
    /** f16 as stored in GGUF blocks (unaligned). */
    public static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** f16 in the scales array. */
    public static final ValueLayout.OfShort SCALE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes of one block's scale in the scales array. */
    public static final int SCALE_BYTES = 2;

    public Q8Matrix {
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 rows must be a multiple of 32 wide, got " + cols);
        }
        if (quants.byteSize() != (long) rows * cols || scales.byteSize() != rows * scaleRowBytes(cols)) {
            throw new IllegalArgumentException("Q8_0 " + rows + "x" + cols + " needs " + (long) rows * cols
                    + " bytes of quants and " + rows * scaleRowBytes(cols) + " of scales, got "
                    + quants.byteSize() + " and " + scales.byteSize());
        }
    }

    /** An all-zero matrix in {@link WeightMemory} owned by {@code arena}, to be filled with {@link #setRow}. */
    public static Q8Matrix allocate(int rows, int cols, Arena arena) {
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 rows must be a multiple of 32 wide, got " + cols);
        }
        return new Q8Matrix(WeightMemory.allocate((long) rows * cols, arena),
                WeightMemory.allocate(rows * scaleRowBytes(cols), arena), rows, cols);
    }

    /** Repacks {@code rows} rows of GGUF Q8_0 blocks ({@code blocks}, as in a file) into a new matrix. */
    public static Q8Matrix fromBlocks(MemorySegment blocks, int rows, int cols, Arena arena) {
        long rowBytes = (long) (cols / BLOCK) * BLOCK_BYTES;
        if (blocks.byteSize() != rows * rowBytes) {
            throw new IllegalArgumentException("Q8_0 data is " + blocks.byteSize() + " bytes, expected "
                    + rows * rowBytes + " for " + rows + "x" + cols);
        }
        Q8Matrix m = allocate(rows, cols, arena);
        for (int r = 0; r < rows; r++) {
            m.setRow(r, blocks, r * rowBytes);
        }
        return m;
    }

    /** Sets row {@code r} from one row of GGUF Q8_0 blocks at byte {@code off} of {@code blocks}. */
    public void setRow(int r, MemorySegment blocks, long off) {
        int n = cols / BLOCK;
        long q = (long) r * cols;
        long s = r * scaleRowBytes(cols);
        for (int b = 0; b < n; b++, off += BLOCK_BYTES, q += BLOCK, s += SCALE_BYTES) {
            scales.set(SCALE, s, blocks.get(F16, off));
            MemorySegment.copy(blocks, off + 2, quants, q, BLOCK);
        }
    }

    /** Row {@code r} as GGUF Q8_0 blocks into {@code dst} at byte {@code off} (the file layout again). */
    public void rowBlocks(int r, MemorySegment dst, long off) {
        int n = cols / BLOCK;
        long q = (long) r * cols;
        long s = r * scaleRowBytes(cols);
        for (int b = 0; b < n; b++, off += BLOCK_BYTES, q += BLOCK, s += SCALE_BYTES) {
            dst.set(F16, off, scales.get(SCALE, s));
            MemorySegment.copy(quants, q, dst, off + 2, BLOCK);
        }
    }

    /** Bytes of one row's scales in the scales array. */
    public static long scaleRowBytes(int cols) {
        return (long) (cols / BLOCK) * SCALE_BYTES;
    }

    /** Bytes the weights take as Q8_0 (34 per block of 32), the same here as in the file. */
    @Override
    public long byteSize() {
        return quants.byteSize() + scales.byteSize();
    }

    @Override
    public long rowBytes() {
        return (long) (cols / BLOCK) * BLOCK_BYTES;
    }

    /** The scale of block {@code b} of row {@code r}. */
    public float scale(int r, int b) {
        return Float.float16ToFloat(scales.get(SCALE, r * scaleRowBytes(cols) + (long) b * SCALE_BYTES));
    }

    /** Quant {@code k} of row {@code r}. */
    public byte quant(int r, int k) {
        return quants.get(ValueLayout.JAVA_BYTE, (long) r * cols + k);
    }

    @Override
    public void row(int r, float[] out, int off) {
        for (int b = 0; b < cols / BLOCK; b++) {
            float d = scale(r, b);
            for (int i = 0; i < BLOCK; i++) {
                out[off + b * BLOCK + i] = d * quant(r, b * BLOCK + i);
            }
        }
    }

    @Override
    public Q8Matrix slice(int from, int count) {
        return new Q8Matrix(quants.asSlice((long) from * cols, (long) count * cols),
                scales.asSlice(from * scaleRowBytes(cols), count * scaleRowBytes(cols)), count, cols);
    }
}
