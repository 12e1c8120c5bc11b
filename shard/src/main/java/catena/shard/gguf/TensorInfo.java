package catena.shard.gguf;

import java.util.Arrays;

/**
 * One tensor's header entry. {@code shape} is in ggml order: shape[0] (ne0) varies fastest.
 * {@code offset} is relative to the start of the data section; {@code fileOffset} is absolute.
 */
public record TensorInfo(String name, long[] shape, GgmlType type, long offset, long fileOffset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** ne0: elements per row. */
    public long cols() {
        return shape[0];
    }

    /** Rows of a 2-D view: the product of all dims but ne0. */
    public long rows() {
        return elementCount() / shape[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && Arrays.equals(t.shape, shape) && t.type == type
                && t.offset == offset && t.fileOffset == fileOffset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + " " + type;
    }
}
