package catena.shard.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 rows: each row is {@code cols/32} blocks of 34 bytes (f16 scale, then 32 int8), exactly as
 * in a GGUF file, so a Q8_0 tensor is used in place from the mapping.
 */
public record Q8Matrix(MemorySegment data, int rows, int cols) implements Matrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;
    public static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Q8Matrix {
        if (cols % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0 rows must be a multiple of 32 wide, got " + cols);
        }
        if (data.byteSize() != (long) rows * (cols / BLOCK) * BLOCK_BYTES) {
            throw new IllegalArgumentException("Q8_0 data is " + data.byteSize() + " bytes, expected "
                    + (long) rows * (cols / BLOCK) * BLOCK_BYTES + " for " + rows + "x" + cols);
        }
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public long rowBytes() {
        return (long) (cols / BLOCK) * BLOCK_BYTES;
    }

    /** The scale of block {@code b} of row {@code r}. */
    public float scale(int r, int b) {
        return Float.float16ToFloat(data.get(F16, r * rowBytes() + (long) b * BLOCK_BYTES));
    }

    @Override
    public void row(int r, float[] out, int off) {
        long base = r * rowBytes();
        for (int b = 0; b < cols / BLOCK; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(F16, blk));
            for (int i = 0; i < BLOCK; i++) {
                out[off + b * BLOCK + i] = d * data.get(ValueLayout.JAVA_BYTE, blk + 2 + i);
            }
        }
    }

    @Override
    public Q8Matrix slice(int from, int count) {
        return new Q8Matrix(data.asSlice(from * rowBytes(), count * rowBytes()), count, cols);
    }
}
