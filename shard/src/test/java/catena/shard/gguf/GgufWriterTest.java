package catena.shard.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer against our reader, and against files written by llama.cpp's own gguf writer. */
class GgufWriterTest {
    @TempDir
    Path tmp;

    static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("v.u8", new GgufValue(GgufValueType.UINT8, (byte) 0xF0));
        m.put("v.i8", new GgufValue(GgufValueType.INT8, (byte) -5));
        m.put("v.u16", new GgufValue(GgufValueType.UINT16, (short) 0xFFFE));
        m.put("v.i16", new GgufValue(GgufValueType.INT16, (short) -300));
        m.put("v.u32", new GgufValue(GgufValueType.UINT32, 0xFFFF_FFF0));
        m.put("v.i32", new GgufValue(GgufValueType.INT32, -70000));
        m.put("v.f32", new GgufValue(GgufValueType.FLOAT32, 1.5e-6f));
        m.put("v.bool", new GgufValue(GgufValueType.BOOL, true));
        m.put("v.boolf", new GgufValue(GgufValueType.BOOL, false));
        m.put("v.str", new GgufValue(GgufValueType.STRING, "héllo ▁ wörld \n <0x00>"));
        m.put("v.empty", new GgufValue(GgufValueType.STRING, ""));
        m.put("v.u64", new GgufValue(GgufValueType.UINT64, -1L));
        m.put("v.i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("v.f64", new GgufValue(GgufValueType.FLOAT64, Math.PI));
        m.put("a.u8", GgufValue.ofArray(GgufValueType.UINT8, new byte[] {1, (byte) 255}));
        m.put("a.i8", GgufValue.ofArray(GgufValueType.INT8, new byte[] {-1, 2, 3}));
        m.put("a.u16", GgufValue.ofArray(GgufValueType.UINT16, new short[] {(short) 65535}));
        m.put("a.i16", GgufValue.ofArray(GgufValueType.INT16, new short[] {-2, 7}));
        m.put("a.u32", GgufValue.ofArray(GgufValueType.UINT32, new int[] {-1, 0}));
        m.put("a.i32", GgufValue.ofArray(GgufValueType.INT32, new int[] {1, -2, 3}));
        m.put("a.f32", GgufValue.ofArray(GgufValueType.FLOAT32, new float[] {0f, -1000f, Float.MIN_VALUE}));
        m.put("a.bool", GgufValue.ofArray(GgufValueType.BOOL, new boolean[] {true, false, true}));
        m.put("a.str", GgufValue.ofArray(GgufValueType.STRING, new String[] {"<pad>", "", "日本"}));
        m.put("a.u64", GgufValue.ofArray(GgufValueType.UINT64, new long[] {Long.MAX_VALUE}));
        m.put("a.i64", GgufValue.ofArray(GgufValueType.INT64, new long[] {-9}));
        m.put("a.f64", GgufValue.ofArray(GgufValueType.FLOAT64, new double[] {1e300, -0.0}));
        m.put("a.empty", GgufValue.ofArray(GgufValueType.INT32, new int[0]));
        m.put("a.nested", GgufValue.ofArray(GgufValueType.ARRAY, new GgufArray[] {
            new GgufArray(GgufValueType.STRING, new String[] {"x", "y"}),
            new GgufArray(GgufValueType.FLOAT32, new float[] {2f})}));
        return m;
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        Path p = tmp.resolve("all.gguf");
        Map<String, GgufValue> m = everyValueType();
        GgufWriter w = new GgufWriter().putAll(m);
        w.tensor("t", new long[] {3}, GgmlType.F32, sink -> sink.put(
                ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).putFloat(3f).flip()));
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.metadata().asMap()).containsExactlyEntriesOf(m);
            TensorInfo t = f.tensor("t");
            assertThat(t.shape()).containsExactly(3);
            assertThat(f.tensorData(t).toArray(ValueLayout.JAVA_FLOAT)).containsExactly(1f, 2f, 3f);
            assertThat(f.fileSize() % 32).isZero();
        }
    }

    @Test
    void alignmentKeyIsHonoured() throws IOException {
        Path p = tmp.resolve("a.gguf");
        GgufWriter w = new GgufWriter().putUint32("general.alignment", 64);
        w.tensor("a", new long[] {3}, GgmlType.F32, sink -> sink.put(ByteBuffer.allocate(12)));
        w.tensor("b", new long[] {32, 2}, GgmlType.Q8_0, sink -> {
            sink.put(ByteBuffer.allocate(40));
            sink.put(ByteBuffer.allocate(28));
        });
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.alignment()).isEqualTo(64);
            assertThat(f.dataOffset() % 64).isZero();
            assertThat(f.tensor("b").offset()).isEqualTo(64);
            assertThat(f.tensor("b").byteSize()).isEqualTo(68);
            assertThat(f.fileSize() % 64).isZero();
        }
    }

    @Test
    void aSourceWithTheWrongByteCountIsRefusedAndLeavesNoFile() {
        Path p = tmp.resolve("m.gguf");
        GgufWriter w = new GgufWriter();
        w.tensor("a", new long[] {2}, GgmlType.F32, sink -> sink.put(ByteBuffer.allocate(4)));
        assertThatThrownBy(() -> w.write(p)).hasMessageContaining("tensor 'a' produced 4 bytes, expected 8");
        assertThat(p).doesNotExist();
        assertThatThrownBy(() -> w.tensor("a", new long[] {2}, GgmlType.F32, sink -> { }))
                .hasMessageContaining("duplicate tensor 'a'");
    }

    /** Rewriting a file that llama.cpp wrote (metadata and tensors in its order) reproduces it byte for byte. */
    @Test
    void rewritingFixturesGivesTheSameBytes() throws IOException {
        List<Path> files = fixtureFiles();
        for (Path in : files) {
            Path out = tmp.resolve("copy.gguf");
            try (GgufFile f = GgufFile.open(in)) {
                GgufWriter w = new GgufWriter().putAll(f.metadata().asMap());
                for (TensorInfo t : f.tensors().values()) {
                    w.tensor(t.name(), t.shape(), t.type(), sink -> sink.put(f.tensorData(t).asByteBuffer()));
                }
                w.write(out);
            }
            assertThat(Files.mismatch(in, out)).as(in.toString()).isEqualTo(-1L);
        }
    }

    /** Every fixture GGUF (tiny and stories) parses, with its tensors inside the file. */
    @Test
    void everyFixtureReads() throws IOException {
        for (Path in : fixtureFiles()) {
            try (GgufFile f = GgufFile.open(in)) {
                assertThat(f.metadata().getString("general.architecture")).as(in.toString()).isNotBlank();
                assertThat(f.tensors()).as(in.toString()).isNotEmpty().containsKey("token_embd.weight");
                assertThat(f.metadata().getStringArray("tokenizer.ggml.tokens")).hasSizeGreaterThanOrEqualTo(512);
                for (TensorInfo t : f.tensors().values()) {
                    assertThat(t.fileOffset() + t.byteSize()).isLessThanOrEqualTo(f.fileSize());
                }
            }
        }
    }

    static List<Path> fixtureFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String dir : new String[] {"tiny", "stories"}) {
            Path d = Fixtures.root().resolve(dir);
            assertThat(d).as("fixture directory (set -Dcatena.fixtures)").isDirectory();
            try (Stream<Path> s = Files.list(d)) {
                s.filter(x -> x.toString().endsWith(".gguf")).sorted().forEach(out::add);
            }
        }
        assertThat(out).as("fixture GGUFs under " + Fixtures.root()).hasSizeGreaterThanOrEqualTo(16);
        return out;
    }
}
