package catena.shard.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3: metadata, tensor infos, then each tensor's bytes streamed from a
 * {@link TensorSource}, so multi-gigabyte files never sit in memory. The file appears under its
 * name only when complete (written to a temporary sibling, then moved).
 */
public final class GgufWriter {

    /** Produces one tensor's bytes, in order, into {@code out} (called once, at write time). */
    @FunctionalInterface
    public interface TensorSource {
        void write(TensorSink out) throws IOException;
    }

    /** Where a {@link TensorSource} puts its bytes. */
    public interface TensorSink {
        void put(ByteBuffer bytes) throws IOException;
    }

    /** Called after each tensor, for progress reporting. */
    @FunctionalInterface
    public interface Progress {
        void tensorWritten(String name, long bytes);
    }

    private record Entry(String name, long[] shape, GgmlType type, long byteSize, TensorSource source) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private final Map<String, Entry> byName = new LinkedHashMap<>();

    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(Map<String, GgufValue> values) {
        metadata.putAll(values);
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, GgufValue.ofString(v));
    }

    public GgufWriter putUint32(String key, int v) {
        return put(key, GgufValue.ofUint32(v));
    }

    public GgufWriter putFloat32(String key, float v) {
        return put(key, GgufValue.ofFloat32(v));
    }

    public GgufWriter putBool(String key, boolean v) {
        return put(key, GgufValue.ofBool(v));
    }

    /** Adds a tensor; {@code shape} is ggml order (ne0 first). */
    public GgufWriter tensor(String name, long[] shape, GgmlType type, TensorSource source) {
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        }
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        Entry e = new Entry(name, shape.clone(), type, type.byteSizeFor(n), source);
        tensors.add(e);
        byName.put(name, e);
        return this;
    }

    /** Bytes of tensor data the file will hold (for progress bars). */
    public long dataBytes() {
        long n = 0;
        for (Entry e : tensors) {
            n += e.byteSize;
        }
        return n;
    }

    public void write(Path path) throws IOException {
        write(path, null);
    }

    public void write(Path path, Progress progress) throws IOException {
        int alignment = metadata.containsKey("general.alignment")
                ? (int) metadata.get("general.alignment").asLong() : GgufFile.DEFAULT_ALIGNMENT;
        Path tmp = path.resolveSibling(path.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Out out = new Out(ch);
            out.u32(GgufFile.MAGIC);
            out.u32(3);
            out.u64(tensors.size());
            out.u64(metadata.size());
            for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
                out.string(kv.getKey());
                out.u32(kv.getValue().type().id());
                out.value(kv.getValue().type(), kv.getValue().value());
            }
            long offset = 0;
            long[] offsets = new long[tensors.size()];
            for (int i = 0; i < tensors.size(); i++) {
                Entry t = tensors.get(i);
                offsets[i] = offset;
                out.string(t.name);
                out.u32(t.shape.length);
                for (long d : t.shape) {
                    out.u64(d);
                }
                out.u32(t.type.id);
                out.u64(offset);
                offset = align(offset + t.byteSize, alignment);
            }
            out.pad(alignment);
            out.flush();
            long dataStart = ch.position();
            for (int i = 0; i < tensors.size(); i++) {
                Entry t = tensors.get(i);
                ch.position(dataStart + offsets[i]);
                long[] written = {0};
                t.source.write(bytes -> {
                    written[0] += bytes.remaining();
                    if (written[0] > t.byteSize) {
                        throw new IOException("tensor '" + t.name + "' produced more than its " + t.byteSize + " bytes");
                    }
                    while (bytes.hasRemaining()) {
                        ch.write(bytes);
                    }
                });
                if (written[0] != t.byteSize) {
                    throw new IOException("tensor '" + t.name + "' produced " + written[0] + " bytes, expected "
                            + t.byteSize);
                }
                if (progress != null) {
                    progress.tensorWritten(t.name, t.byteSize);
                }
            }
            // Pad the last tensor too, as ggml does, so the file size is aligned.
            long end = dataStart + offset;
            if (ch.size() < end) {
                ch.write(ByteBuffer.allocate((int) (end - ch.size())), ch.size());
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static long align(long v, int alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }

    /** Buffered little-endian writer for the header part. */
    private static final class Out {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Out(FileChannel ch) {
            this.ch = ch;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void u8(int v) throws IOException {
            room(1);
            buf.put((byte) v);
            written += 1;
        }

        void u16(int v) throws IOException {
            room(2);
            buf.putShort((short) v);
            written += 2;
        }

        void u32(int v) throws IOException {
            room(4);
            buf.putInt(v);
            written += 4;
        }

        void u64(long v) throws IOException {
            room(8);
            buf.putLong(v);
            written += 8;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            int off = 0;
            while (off < b.length) {
                room(1);
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
                written += n;
            }
        }

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) {
                u8(0);
            }
        }

        void value(GgufValueType type, Object v) throws IOException {
            switch (type) {
                case UINT8, INT8 -> u8((Byte) v);
                case UINT16, INT16 -> u16((Short) v);
                case UINT32, INT32 -> u32((Integer) v);
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> array((GgufArray) v);
            }
        }

        void array(GgufArray a) throws IOException {
            u32(a.elementType().id());
            u64(a.length());
            Object v = a.values();
            switch (a.elementType()) {
                case UINT8, INT8 -> { for (byte x : (byte[]) v) u8(x); }
                case UINT16, INT16 -> { for (short x : (short[]) v) u16(x); }
                case UINT32, INT32 -> { for (int x : (int[]) v) u32(x); }
                case UINT64, INT64 -> { for (long x : (long[]) v) u64(x); }
                case FLOAT32 -> { for (float x : (float[]) v) u32(Float.floatToRawIntBits(x)); }
                case FLOAT64 -> { for (double x : (double[]) v) u64(Double.doubleToRawLongBits(x)); }
                case BOOL -> { for (boolean x : (boolean[]) v) u8(x ? 1 : 0); }
                case STRING -> { for (String x : (String[]) v) string(x); }
                case ARRAY -> { for (GgufArray x : (GgufArray[]) v) array(x); }
            }
        }
    }
}
