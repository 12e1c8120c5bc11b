package catena.shard.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0 weights held as Q4_0, in the engine's layout: the nibbles of every row in one array (16
 * bytes per block of 32, as in the file: byte j holds element j in its low nibble and element j+16
 * in its high one; row r's blocks from byte {@code r*cols/2}) and the block scales apart as f32
 * ({@code scales[r*cols/32 + b]}), as {@link Q8Matrix} holds them and for the same measured
 * reasons (aligned quants; one broadcast load per scale). 20 bytes held per 32 weights against the
 * file's 18; {@link #rowBlocks} gives the file's bytes back.
 *
 * <p>The scales are held divided by 16 (exact: a power of two, far from f32's subnormals): the
 * kernels widen a nibble n in place as the signed byte {@code 16 * (n - 8)} (a mask and an xor,
 * no subtraction and for the high nibble no shift), and {@code 16 * (n - 8)} times {@code d / 16}
 * is exactly {@code (n - 8) * d}. {@link #scale} returns d.
 *
 * <p>Element k of a row is {@code (nibble - 8) * d}, exactly: so a Q8Matrix holding the quants
 * {@code nibble - 8} and the same scales is the same matrix ({@link #toQ8}), which is what the
 * kernels are tested against bit for bit.
 */
public record Q4Matrix(MemorySegment quants, MemorySegment scales, int rows, int cols) implements Matrix {
    public static final int BLOCK = Q4_0.BLOCK;
    /** Bytes of one block's nibbles. */
    public static final int NIBBLE_BYTES = BLOCK / 2;
    /** What a block's scale d is held as: {@code d * SCALE_HELD} (see the class doc). */
    public static final float SCALE_HELD = 0.0625f;

    public Q4Matrix {
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("Q4_0 rows must be a multiple of 32 wide, got " + cols);
        }
        if (quants.byteSize() != (long) rows * cols / 2 || scales.byteSize() != rows * Q8Matrix.scaleRowBytes(cols)) {
            throw new IllegalArgumentException("Q4_0 " + rows + "x" + cols + " needs " + (long) rows * cols / 2
                    + " bytes of nibbles and " + rows * Q8Matrix.scaleRowBytes(cols) + " of scales, got "
                    + quants.byteSize() + " and " + scales.byteSize());
        }
    }

    /** An all-zero matrix in {@link WeightMemory} owned by {@code arena}, to be filled with {@link #setRow}. */
    public static Q4Matrix allocate(int rows, int cols, Arena arena) {
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("Q4_0 rows must be a multiple of 32 wide, got " + cols);
        }
        return new Q4Matrix(WeightMemory.allocate((long) rows * cols / 2, arena),
                WeightMemory.allocate(rows * Q8Matrix.scaleRowBytes(cols), arena), rows, cols);
    }

    /** Repacks {@code rows} rows of GGUF Q4_0 blocks ({@code blocks}, as in a file) into a new matrix. */
    public static Q4Matrix fromBlocks(MemorySegment blocks, int rows, int cols, Arena arena) {
        long rowBytes = (long) (cols / BLOCK) * Q4_0.BLOCK_BYTES;
        if (blocks.byteSize() != rows * rowBytes) {
            throw new IllegalArgumentException("Q4_0 data is " + blocks.byteSize() + " bytes, expected "
                    + rows * rowBytes + " for " + rows + "x" + cols);
        }
        Q4Matrix m = allocate(rows, cols, arena);
        for (int r = 0; r < rows; r++) {
            m.setRow(r, blocks, r * rowBytes);
        }
        return m;
    }

    /** Sets row {@code r} from one row of GGUF Q4_0 blocks at byte {@code off} of {@code blocks}. */
    public void setRow(int r, MemorySegment blocks, long off) {
        int n = cols / BLOCK;
        long q = (long) r * cols / 2;
        long s = r * Q8Matrix.scaleRowBytes(cols);
        for (int b = 0; b < n; b++, off += Q4_0.BLOCK_BYTES, q += NIBBLE_BYTES, s += Q8Matrix.SCALE_BYTES) {
            scales.set(Q8Matrix.SCALE, s, Float.float16ToFloat(blocks.get(Q8Matrix.F16, off)) * SCALE_HELD);
            MemorySegment.copy(blocks, off + 2, quants, q, NIBBLE_BYTES);
        }
    }

    /** Row {@code r} as GGUF Q4_0 blocks into {@code dst} at byte {@code off} (the file layout again). */
    public void rowBlocks(int r, MemorySegment dst, long off) {
        int n = cols / BLOCK;
        long q = (long) r * cols / 2;
        long s = r * Q8Matrix.scaleRowBytes(cols);
        for (int b = 0; b < n; b++, off += Q4_0.BLOCK_BYTES, q += NIBBLE_BYTES, s += Q8Matrix.SCALE_BYTES) {
            dst.set(Q8Matrix.F16, off, Float.floatToFloat16(scales.get(Q8Matrix.SCALE, s) / SCALE_HELD));
            MemorySegment.copy(quants, q, dst, off + 2, NIBBLE_BYTES);
        }
    }

    /**
     * The same values as a {@link Q8Matrix} (quants {@code nibble - 8}, the same f32 scales): exact,
     * unlike re-quantizing the dequantized rows to Q8_0. For tests and A/B comparisons.
     */
    public Q8Matrix toQ8(Arena arena) {
        Q8Matrix m = Q8Matrix.allocate(rows, cols, arena);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / BLOCK; b++) {
                m.scales().set(Q8Matrix.SCALE, r * Q8Matrix.scaleRowBytes(cols) + (long) b * Q8Matrix.SCALE_BYTES, scale(r, b));
            }
            for (int k = 0; k < cols; k++) {
                m.quants().set(ValueLayout.JAVA_BYTE, (long) r * cols + k, (byte) (quant(r, k) - 8));
            }
        }
        return m;
    }

    /** Bytes of the weights as Q4_0 (18 per block of 32), as in the file. */
    @Override
    public long byteSize() {
        return rows * rowBytes();
    }

    /** Bytes held (and read by a pass): the nibbles and the f32 scales, 20 per block of 32. */
    @Override
    public long residentBytes() {
        return quants.byteSize() + scales.byteSize();
    }

    @Override
    public long rowBytes() {
        return (long) (cols / BLOCK) * Q4_0.BLOCK_BYTES;
    }

    /** The scale d of block {@code b} of row {@code r} (held as d/16). */
    public float scale(int r, int b) {
        return scales.get(Q8Matrix.SCALE, r * Q8Matrix.scaleRowBytes(cols) + (long) b * Q8Matrix.SCALE_BYTES) / SCALE_HELD;
    }

    /** Nibble (0..15) of element {@code k} of row {@code r}; the weight is {@code (nibble - 8) * scale}. */
    public int quant(int r, int k) {
        int in = k % BLOCK;
        long at = (long) r * cols / 2 + (long) (k / BLOCK) * NIBBLE_BYTES + (in % NIBBLE_BYTES);
        int b = quants.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
        return in < NIBBLE_BYTES ? b & 0x0F : b >>> 4;
    }

    @Override
    public void row(int r, float[] out, int off) {
        for (int b = 0; b < cols / BLOCK; b++) {
            float d = scale(r, b);
            for (int i = 0; i < BLOCK; i++) {
                out[off + b * BLOCK + i] = (quant(r, b * BLOCK + i) - 8) * d;
            }
        }
    }

    @Override
    public Q4Matrix slice(int from, int count) {
        long rowQ = (long) cols / 2;
        return new Q4Matrix(quants.asSlice(from * rowQ, count * rowQ),
                scales.asSlice(from * Q8Matrix.scaleRowBytes(cols), count * Q8Matrix.scaleRowBytes(cols)), count, cols);
    }
}
