package catena.shard.tensor;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufFormatException;
import catena.shard.gguf.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Turns GGUF tensors into the engine's working formats: Q8_0 tensors are repacked into
 * {@link Q8Matrix}'s layout and Q4_0 tensors into {@link Q4Matrix}'s, in huge-page memory
 * ({@link WeightMemory}), so a matrix holds the file's bytes (plus the f32 widening of its block
 * scales); F32/F16/BF16 matrices are quantized to Q8_0 at load ({@code keepF32} keeps them, and
 * Q4_0 ones, as F32 instead, for exact comparisons; {@code widenQ4} turns Q4_0 into Q8_0 as
 * before, for A/B comparisons); a matrix whose rows are not a multiple of 32 stays F32.
 */
public final class Weights {
    private final GgufFile file;
    private final boolean keepF32;
    private final boolean widenQ4;
    private final Arena arena;

    /** {@code arena} owns the converted copies; it must outlive the returned matrices. */
    public Weights(GgufFile file, boolean keepF32, Arena arena) {
        this(file, keepF32, false, arena);
    }

    /** As above; {@code widenQ4} re-quantizes Q4_0 matrices to Q8_0 instead of holding them as Q4_0. */
    public Weights(GgufFile file, boolean keepF32, boolean widenQ4, Arena arena) {
        this.file = file;
        this.keepF32 = keepF32;
        this.widenQ4 = widenQ4;
        this.arena = arena;
    }

    public GgufFile file() {
        return file;
    }

    public boolean has(String name) {
        return file.tensors().containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = file.tensors().get(name);
        if (t == null) {
            throw new GgufFormatException(file.path().getFileName() + ": missing tensor '" + name + "'");
        }
        return t;
    }

    /** A 2-D (or higher, viewed as rows) weight matrix. */
    public Matrix matrix(String name) {
        return matrix(name, keepF32);
    }

    /**
     * A matrix never re-quantized by the engine (F32/F16/BF16 become F32; Q8_0 stays): for small
     * matrices whose outputs drive discrete choices, such as a MoE router.
     */
    public Matrix exactMatrix(String name) {
        return matrix(name, true);
    }

    private Matrix matrix(String name, boolean keepF32) {
        TensorInfo t = info(name);
        requireSupported(t);
        int cols = Math.toIntExact(t.cols());
        int rows = Math.toIntExact(t.rows());
        MemorySegment src = file.tensorData(t);
        if (t.type() == GgmlType.Q8_0) {
            return Q8Matrix.fromBlocks(src, rows, cols, arena);
        }
        if (t.type() == GgmlType.Q4_0 && !keepF32 && !widenQ4) {
            return Q4Matrix.fromBlocks(src, rows, cols, arena);
        }
        if (t.type() == GgmlType.F32 && (keepF32 || cols % 32 != 0)) {
            return new F32Matrix(src, rows, cols);
        }
        float[] row = new float[cols];
        long srcRowBytes = t.byteSize() / rows;
        if (keepF32 || cols % 32 != 0) {
            MemorySegment dst = arena.allocate((long) rows * cols * 4, 64);
            for (int r = 0; r < rows; r++) {
                Dequant.decode(t.type(), src, r * srcRowBytes, row, 0, cols);
                MemorySegment.copy(row, 0, dst, F32Matrix.F32, (long) r * cols * 4, cols);
            }
            return new F32Matrix(dst, rows, cols);
        }
        Q8Matrix q = Q8Matrix.allocate(rows, cols, arena);
        try (Arena rowArena = Arena.ofConfined()) {
            MemorySegment blocks = rowArena.allocate((long) (cols / 32) * Q8Matrix.BLOCK_BYTES);
            for (int r = 0; r < rows; r++) {
                Dequant.decode(t.type(), src, r * srcRowBytes, row, 0, cols);
                Q8_0.quantize(row, 0, cols, blocks, 0);
                q.setRow(r, blocks, 0);
            }
        }
        return q;
    }

    /** A 1-D tensor (norm weights, scalars) as floats on the heap. */
    public float[] vector(String name) {
        TensorInfo t = info(name);
        requireSupported(t);
        float[] out = new float[Math.toIntExact(t.elementCount())];
        Dequant.decode(t.type(), file.tensorData(t), 0, out, 0, out.length);
        return out;
    }

    private void requireSupported(TensorInfo t) {
        if (!t.type().isSupported()) {
            throw new GgufFormatException(file.path().getFileName() + ": tensor '" + t.name() + "' has type "
                    + t.type() + "; Catena computes with F32, F16, BF16, Q8_0 and Q4_0 (re-quantize with "
                    + "'catena-shard quantize' or llama-quantize to Q8_0)");
        }
    }
}
