package catena.shard.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian float32 rows, from the mapping or from an off-heap arena. */
public record F32Matrix(MemorySegment data, int rows, int cols) implements Matrix {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix {
        if (data.byteSize() != (long) rows * cols * 4) {
            throw new IllegalArgumentException("F32 data is " + data.byteSize() + " bytes, expected "
                    + (long) rows * cols * 4 + " for " + rows + "x" + cols);
        }
    }

    @Override
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public long residentBytes() {
        return data.byteSize();
    }

    @Override
    public long rowBytes() {
        return (long) cols * 4;
    }

    public float get(int r, int c) {
        return data.getAtIndex(F32, (long) r * cols + c);
    }

    @Override
    public void row(int r, float[] out, int off) {
        MemorySegment.copy(data, F32, (long) r * cols * 4, out, off, cols);
    }

    @Override
    public F32Matrix slice(int from, int count) {
        return new F32Matrix(data.asSlice((long) from * cols * 4, (long) count * cols * 4), count, cols);
    }
}
