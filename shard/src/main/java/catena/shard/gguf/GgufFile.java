package catena.shard.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF v2/v3 file mapped read-only. Tensor data is never copied: {@link #tensorData} hands out
 * slices of the mapping, valid until {@link #close()}.
 *
 * <p>The file owns one shared {@link Arena}: the mapping lives as long as this object, and any
 * thread may read it. Every count, length, shape and offset in the header is checked against
 * the file size before it is used, so that a malformed file fails with a
 * {@link GgufFormatException} naming the problem and its byte offset, never with an
 * OutOfMemoryError, an index exception or a hang.
 *
 * <p>Layout (GGUF v3, little-endian): magic u32 "GGUF", version u32, tensor_count u64,
 * kv_count u64, kv_count × (key string, value type u32, value), tensor_count × (name string,
 * n_dims u32, ne[n_dims] u64, ggml_type u32, offset u64), padding to {@code general.alignment}
 * (default 32), tensor data.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, TensorInfo> tensors;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        Reader r = new Reader(file);
        int magic = r.u32("magic");
        if (magic != MAGIC) {
            throw GgufFormatException.at(0, String.format(
                    "not a GGUF file: magic=0x%08X, expected 0x%08X (\"GGUF\")", magic, MAGIC));
        }
        this.version = r.u32("version");
        if (version != 2 && version != 3) {
            throw GgufFormatException.at(4, "unsupported GGUF version=" + Integer.toUnsignedString(version)
                    + ", expected 2 or 3");
        }
        long tensorCount = r.count("tensor_count", 8 + 4 + 8 + 4 + 8);
        long kvCount = r.count("kv_count", 8 + 4);
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        long alignAt = -1;
        for (long i = 0; i < kvCount; i++) {
            long at = r.pos;
            String key = r.string("metadata key #" + i);
            if (key.equals("general.alignment")) {
                alignAt = r.pos;
            }
            GgufValue value = r.value(key);
            if (kv.put(key, value) != null) {
                throw GgufFormatException.at(at, "duplicate metadata key '" + key + "'");
            }
        }
        this.metadata = new GgufMetadata(kv);
        GgufValue align = kv.get("general.alignment");
        if (align != null) {
            if (!align.isInteger() || align.asLong() <= 0 || align.asLong() > (1 << 20)
                    || Long.bitCount(align.asLong()) != 1) {
                throw GgufFormatException.at(alignAt, "bad general.alignment=" + align.value() + " of type "
                        + align.type() + ", expected an integer power of two between 1 and 1048576");
            }
            this.alignment = (int) align.asLong();
        } else {
            this.alignment = DEFAULT_ALIGNMENT;
        }
        record Raw(String name, long[] shape, GgmlType type, long offset, long at) {}
        List<Raw> raws = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        for (long i = 0; i < tensorCount; i++) {
            long at = r.pos;
            String name = r.string("tensor name #" + i);
            long dimsAt = r.pos;
            int nDims = r.u32("n_dims of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw GgufFormatException.at(dimsAt, "tensor '" + name + "': n_dims=" + Integer.toUnsignedString(nDims)
                        + ", expected 1 to " + MAX_DIMS);
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = r.pos;
                shape[d] = r.u64("ne[" + d + "] of tensor '" + name + "'");
                if (shape[d] <= 0) {
                    throw GgufFormatException.at(dimAt, "tensor '" + name + "': ne[" + d + "]="
                            + Long.toUnsignedString(shape[d]) + ", expected 1 to 2^63-1");
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw GgufFormatException.at(dimAt, "tensor '" + name + "': element count (product of dims "
                            + java.util.Arrays.toString(java.util.Arrays.copyOf(shape, d + 1)) + ") overflows 64 bits");
                }
            }
            long typeAt = r.pos;
            int typeId = r.u32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw GgufFormatException.at(typeAt, "tensor '" + name + "': unknown ggml type id="
                        + Integer.toUnsignedString(typeId));
            }
            if (shape[0] % type.blockSize != 0) {
                throw GgufFormatException.at(dimsAt, "tensor '" + name + "': ne[0]=" + shape[0]
                        + " is not a multiple of " + type + " blockSize=" + type.blockSize);
            }
            long offAt = r.pos;
            long offset = r.u64("data offset of tensor '" + name + "'");
            if (offset % alignment != 0) {
                throw GgufFormatException.at(offAt, "tensor '" + name + "': offset=" + Long.toUnsignedString(offset)
                        + " is not a multiple of alignment=" + alignment);
            }
            raws.add(new Raw(name, shape, type, offset, at));
        }
        long end = r.pos;
        this.dataOffset = (end + alignment - 1) / alignment * alignment;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (Raw t : raws) {
            long elements = 1;
            for (long d : t.shape) {
                elements *= d;
            }
            long bytes;
            try {
                bytes = t.type.byteSizeFor(elements);
            } catch (ArithmeticException e) {
                throw GgufFormatException.at(t.at, "tensor '" + t.name + "': byte size overflows 64 bits");
            }
            long start = dataOffset + t.offset;
            if (t.offset < 0 || start < 0 || bytes > file.byteSize() || start > file.byteSize() - bytes) {
                throw GgufFormatException.at(t.at, "tensor '" + t.name + "': data [" + Long.toUnsignedString(start)
                        + ", " + Long.toUnsignedString(start + bytes) + ") lies outside the file of "
                        + file.byteSize() + " bytes (truncated file or bad offset)");
            }
            TensorInfo info = new TensorInfo(t.name, t.shape, t.type, t.offset, start, bytes);
            if (byName.put(t.name, info) != null) {
                throw GgufFormatException.at(t.at, "duplicate tensor name '" + t.name + "'");
            }
        }
        this.tensors = Collections.unmodifiableMap(byName);
    }

    /**
     * Maps and parses a GGUF file.
     *
     * @throws GgufFormatException if the file is not a valid GGUF v2/v3 file
     * @throws IOException if it cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such model file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL.reinterpret(0)
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(path, arena, seg);
        } catch (RuntimeException | IOException e) {
            arena.close();
            if (e instanceof GgufFormatException g) {
                throw new GgufFormatException(path.getFileName() + ": " + g.getMessage());
            }
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute byte offset of the tensor-data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensors in file order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor of that name, or null. */
    public TensorInfo tensor(String name) {
        return tensors.get(name);
    }

    /** A read-only view of the tensor's bytes, valid while this file is open. */
    public MemorySegment tensorData(TensorInfo t) {
        return file.asSlice(t.fileOffset(), t.byteSize());
    }

    /** The whole mapping, valid while this file is open. */
    public MemorySegment segment() {
        return file;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** A bounds-checked cursor over the header. */
    private static final class Reader {
        private final MemorySegment seg;
        private final long size;
        long pos;

        Reader(MemorySegment seg) {
            this.seg = seg;
            this.size = seg.byteSize();
        }

        private void need(long n, String what) {
            if (n < 0 || pos > size - n) {
                throw GgufFormatException.at(pos, "truncated header: " + what + " needs " + n
                        + " bytes but the file ends at " + size);
            }
        }

        int u32(String what) {
            need(4, what);
            int v = seg.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        /** A u64 count whose entries take at least {@code minEntry} bytes each: checked against the file. */
        long count(String what, long minEntry) {
            long at = pos;
            long n = u64(what);
            long room = (size - pos) / minEntry;
            if (n < 0 || n > room) {
                throw GgufFormatException.at(at, what + "=" + Long.toUnsignedString(n)
                        + " cannot fit in the remaining " + (size - pos) + " bytes of the file");
            }
            return n;
        }

        String string(String what) {
            long at = pos;
            long len = u64("length of " + what);
            if (len < 0 || len > size - pos) {
                throw GgufFormatException.at(at, what + ": string length=" + Long.toUnsignedString(len)
                        + " runs past the end of the file (" + size + " bytes)");
            }
            if (len > Integer.MAX_VALUE - 16) {
                throw GgufFormatException.at(at, what + ": string length=" + len + " is too large");
            }
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                // llama.cpp keeps such bytes; so do we, replacing only for display.
                return new String(b, StandardCharsets.UTF_8);
            }
        }

        GgufValue value(String key) {
            long at = pos;
            int typeId = u32("value type of '" + key + "'");
            GgufValueType type = GgufValueType.byId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw GgufFormatException.at(at, "metadata '" + key + "': unknown value type id="
                        + Integer.toUnsignedString(typeId) + ", expected 0 to 12");
            }
            return new GgufValue(type, scalarOrArray(type, key, 0));
        }

        private Object scalarOrArray(GgufValueType type, String key, int depth) {
            return switch (type) {
                case UINT8, INT8 -> { need(1, key); byte v = seg.get(ValueLayout.JAVA_BYTE, pos); pos += 1; yield v; }
                case UINT16, INT16 -> { need(2, key); short v = seg.get(U16, pos); pos += 2; yield v; }
                case UINT32, INT32 -> u32(key);
                case UINT64, INT64 -> u64(key);
                case FLOAT32 -> { need(4, key); float v = seg.get(F32, pos); pos += 4; yield v; }
                case FLOAT64 -> { need(8, key); double v = seg.get(F64, pos); pos += 8; yield v; }
                case BOOL -> {
                    need(1, key);
                    byte v = seg.get(ValueLayout.JAVA_BYTE, pos);
                    if (v != 0 && v != 1) {
                        throw GgufFormatException.at(pos, "metadata '" + key + "': bool byte=" + v + ", expected 0 or 1");
                    }
                    pos += 1;
                    yield v == 1;
                }
                case STRING -> string("value of '" + key + "'");
                case ARRAY -> array(key, depth);
            };
        }

        private GgufArray array(String key, int depth) {
            if (depth > 8) {
                throw GgufFormatException.at(pos, "metadata '" + key + "': arrays nested deeper than 8 levels");
            }
            long at = pos;
            int typeId = u32("array element type of '" + key + "'");
            GgufValueType et = GgufValueType.byId(Integer.toUnsignedLong(typeId));
            if (et == null) {
                throw GgufFormatException.at(at, "metadata '" + key + "': unknown array element type id="
                        + Integer.toUnsignedString(typeId) + ", expected 0 to 12");
            }
            long countAt = pos;
            long n = u64("array length of '" + key + "'");
            if (n < 0 || n > (size - pos) / et.minSize() || n > Integer.MAX_VALUE - 16) {
                throw GgufFormatException.at(countAt, "metadata '" + key + "': array length="
                        + Long.toUnsignedString(n) + " of " + et + " cannot fit in the remaining "
                        + (size - pos) + " bytes of the file");
            }
            int len = (int) n;
            switch (et) {
                case UINT8, INT8 -> {
                    byte[] a = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
                    pos += len;
                    return new GgufArray(et, a);
                }
                case UINT16, INT16 -> {
                    short[] a = new short[len];
                    for (int i = 0; i < len; i++) { a[i] = seg.get(U16, pos); pos += 2; }
                    return new GgufArray(et, a);
                }
                case UINT32, INT32 -> {
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) { a[i] = seg.get(U32, pos); pos += 4; }
                    return new GgufArray(et, a);
                }
                case UINT64, INT64 -> {
                    long[] a = new long[len];
                    for (int i = 0; i < len; i++) { a[i] = seg.get(U64, pos); pos += 8; }
                    return new GgufArray(et, a);
                }
                case FLOAT32 -> {
                    float[] a = new float[len];
                    for (int i = 0; i < len; i++) { a[i] = seg.get(F32, pos); pos += 4; }
                    return new GgufArray(et, a);
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++) { a[i] = seg.get(F64, pos); pos += 8; }
                    return new GgufArray(et, a);
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) { a[i] = (Boolean) scalarOrArray(et, key, depth); }
                    return new GgufArray(et, a);
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) { a[i] = string("element " + i + " of '" + key + "'"); }
                    return new GgufArray(et, a);
                }
                case ARRAY -> {
                    GgufArray[] a = new GgufArray[len];
                    for (int i = 0; i < len; i++) { a[i] = array(key, depth + 1); }
                    return new GgufArray(et, a);
                }
            }
            throw new AssertionError(et);
        }
    }
}
