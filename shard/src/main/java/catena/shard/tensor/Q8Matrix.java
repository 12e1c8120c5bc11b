package catena.shard.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 weights in the engine's layout: the int8 quants of every row in one array
 * ({@code quants[r*cols + k]}) and the block scales in another ({@code scales[r*cols/32 + b]}), as
 * f32. Same values as GGUF's 34-byte blocks ({@code [f16 d][32 x int8]}): an f16 widens to f32
 * exactly, and {@link #rowBlocks} gives the file's bytes back (a signalling-NaN scale, which no
 * working model has, comes back quieted).
 *
 * <p>Why not use the file's blocks in place: their 34-byte stride leaves every block's quants
 * unaligned and interleaves two kinds of loads in one stream. Measured on the dev VM (cold
 * 6912x1152 matvec, 2 threads, huge pages for both): 18.0 GB/s interleaved, 22.1 GB/s apart, with
 * the bandwidth probe at 24. Loading repacks once (see {@link Weights}).
 *
 * <p>Why f32 scales (36 bytes per block held instead of 34): the f16 scale of each (row, block)
 * cost the decode loop a scalar load, a conversion and a register broadcast on the vector ports,
 * next to only eight vector operations for the block's 32 weights; an f32 scale is one broadcast
 * load. Measured (bench, Gemma-3-1B shape, 2 threads, same run): decode 20.55/20.75 -> 21.97/22.03
 * tok/s (+6.5%) for 5.9% more weight memory. {@link #byteSize} still counts the model's Q8_0 bytes,
 * so efficiencies stay comparable with engines that read the file's blocks; {@link #residentBytes}
 * counts what is held.
 */
public record Q8Matrix(MemorySegment quants, MemorySegment scales, int rows, int cols) implements Matrix {
    public static final int BLOCK = 32;
    /** Bytes of one GGUF Q8_0 block: the f16 scale and 32 quants. */
    public static final int BLOCK_BYTES = 34;
    /** f16 as stored in GGUF blocks (unaligned). */
    public static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** A block scale in the scales array: f32, widened from the file's f16 at load. */
    public static final ValueLayout.OfFloat SCALE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes of one block's scale in the scales array. */
    public static final int SCALE_BYTES = 4;

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
            scales.set(SCALE, s, Float.float16ToFloat(blocks.get(F16, off)));
            MemorySegment.copy(blocks, off + 2, quants, q, BLOCK);
        }
    }

    /** Row {@code r} as GGUF Q8_0 blocks into {@code dst} at byte {@code off} (the file layout again). */
    public void rowBlocks(int r, MemorySegment dst, long off) {
        int n = cols / BLOCK;
        long q = (long) r * cols;
        long s = r * scaleRowBytes(cols);
        for (int b = 0; b < n; b++, off += BLOCK_BYTES, q += BLOCK, s += SCALE_BYTES) {
            dst.set(F16, off, Float.floatToFloat16(scales.get(SCALE, s)));
            MemorySegment.copy(quants, q, dst, off + 2, BLOCK);
        }
    }

    /** Bytes of one row's scales in the scales array. */
    public static long scaleRowBytes(int cols) {
        return (long) (cols / BLOCK) * SCALE_BYTES;
    }

    /** Bytes of the weights as Q8_0 (34 per block of 32), as in the file. */
    @Override
    public long byteSize() {
        return rows * rowBytes();
    }

    /** Bytes held (and read by a pass): the quants and the f32 scales, 36 per block of 32. */
    @Override
    public long residentBytes() {
        return quants.byteSize() + scales.byteSize();
    }

    @Override
    public long rowBytes() {
        return (long) (cols / BLOCK) * BLOCK_BYTES;
    }

    /** The scale of block {@code b} of row {@code r}. */
    public float scale(int r, int b) {
        return scales.get(SCALE, r * scaleRowBytes(cols) + (long) b * SCALE_BYTES);
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
