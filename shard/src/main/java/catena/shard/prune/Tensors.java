package catena.shard.prune;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import catena.shard.tensor.Dequant;
import catena.shard.tensor.Q8_0;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Whole 2-D tensors as float arrays and back: row and column selection work on these. */
final class Tensors {
    private Tensors() {
    }

    /** The tensor decoded to [rows][cols] row-major (rows = ne1, cols = ne0). */
    static float[] read(GgufFile f, TensorInfo t) {
        if (t.shape().length != 2) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': dims=" + t.shape().length + ", expected 2");
        }
        int rows = Math.toIntExact(t.rows());
        int cols = Math.toIntExact(t.cols());
        MemorySegment seg = f.tensorData(t);
        long rowBytes = t.type().byteSizeFor(cols);
        float[] m = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            Dequant.decode(t.type(), seg, r * rowBytes, m, r * cols, cols);
        }
        return m;
    }

    /** Rows {@code keep} of [rows][cols] {@code m}. */
    static float[] rows(float[] m, int cols, int[] keep) {
        float[] out = new float[keep.length * cols];
        for (int i = 0; i < keep.length; i++) {
            System.arraycopy(m, keep[i] * cols, out, i * cols, cols);
        }
        return out;
    }

    /** Blocks of {@code block} consecutive rows, block indices {@code keep} (head slices of attn_q). */
    static int[] expand(int[] keep, int block) {
        int[] out = new int[keep.length * block];
        for (int i = 0; i < keep.length; i++) {
            for (int k = 0; k < block; k++) {
                out[i * block + k] = keep[i] * block + k;
            }
        }
        return out;
    }

    /**
     * The type a rewritten tensor is stored in: Q8_0 if the source was Q8_0 and the new rows are a
     * multiple of 32 long, else F32 (F32 sources stay F32; F16/BF16 widen to F32).
     */
    static GgmlType storedType(GgmlType source, int cols) {
        return source == GgmlType.Q8_0 && cols % 32 == 0 ? GgmlType.Q8_0 : GgmlType.F32;
    }

    /** Adds [rows][cols] {@code m} to {@code w} as {@code name} in {@code type} (F32 or Q8_0). */
    static void add(GgufWriter w, String name, float[] m, int rows, int cols, GgmlType type) {
        w.tensor(name, new long[] {cols, rows}, type, sink -> write(sink, m, rows, cols, type));
    }

    private static void write(GgufWriter.TensorSink sink, float[] m, int rows, int cols, GgmlType type)
            throws IOException {
        int rowBytes = Math.toIntExact(type.byteSizeFor(cols));
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(rowBytes, rows)).order(ByteOrder.LITTLE_ENDIAN);
        if (type == GgmlType.F32) {
            buf.asFloatBuffer().put(m, 0, rows * cols);
        } else if (type == GgmlType.Q8_0) {
            MemorySegment dst = MemorySegment.ofArray(buf.array());
            for (int r = 0; r < rows; r++) {
                Q8_0.quantize(m, r * cols, cols, dst, (long) r * rowBytes);
            }
        } else {
            throw new IllegalArgumentException("prune writes F32 or Q8_0 tensors, not " + type);
        }
        sink.put(buf);
    }
}
