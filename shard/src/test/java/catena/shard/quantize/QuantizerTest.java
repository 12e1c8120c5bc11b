package catena.shard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our quantizer against llama-quantize's Q8_0 output of the same F32 fixtures. */
class QuantizerTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"tiny/tiny-llama", "tiny/tiny-gemma", "tiny/tiny-gemma2", "tiny/tiny-gemma3",
        "tiny/tiny-gemma4", "tiny/tiny-gemma4-ple", "tiny/tiny-gemma4-moe", "stories/stories260K"})
    void everyTensorEqualsLlamaQuantizeOutput(String model) throws IOException {
        Path in = Fixtures.file(model + "-f32.gguf");
        Path ref = Fixtures.file(model + "-q8_0.gguf");
        Path out = tmp.resolve("out.gguf");
        Quantizer.quantize(in, out, GgmlType.Q8_0, null, null);
        try (GgufFile ours = GgufFile.open(out); GgufFile theirs = GgufFile.open(ref)) {
            assertThat(ours.tensors().keySet()).containsExactlyElementsOf(theirs.tensors().keySet());
            int quantized = 0;
            for (TensorInfo t : theirs.tensors().values()) {
                TensorInfo o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(t.type());
                assertThat(o.shape()).as(t.name()).containsExactly(t.shape());
                assertThat(ours.tensorData(o).mismatch(theirs.tensorData(t))).as(t.name() + " bytes").isEqualTo(-1L);
                quantized += t.type() == GgmlType.Q8_0 ? 1 : 0;
            }
            assertThat(quantized).isGreaterThan(5);
            assertThat(ours.metadata().asMap()).containsExactlyEntriesOf(theirs.metadata().asMap());
        }
        // Same metadata, order, layout and bytes: the whole file is llama-quantize's.
        assertThat(Files.mismatch(out, ref)).as(model).isEqualTo(-1L);
    }

    /** The Q4_0 fixtures: llama-quantize --output-tensor-type q8_0 --token-embedding-type q8_0 F32 OUT q4_0. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny/tiny-llama", "tiny/tiny-gemma2", "tiny/tiny-gemma3"})
    void shouldWriteLlamaQuantizesQ40FileWhenGivenTheF32Twin(String model) throws IOException {
        Path in = Fixtures.file(model + "-f32.gguf");
        Path ref = Fixtures.file(model + "-q4_0.gguf");
        Path out = tmp.resolve("out4.gguf");
        Quantizer.quantize(in, out, new Quantizer.Targets(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q8_0), null, null);
        try (GgufFile ours = GgufFile.open(out); GgufFile theirs = GgufFile.open(ref)) {
            assertThat(ours.tensors().keySet()).containsExactlyElementsOf(theirs.tensors().keySet());
            int q4 = 0;
            for (TensorInfo t : theirs.tensors().values()) {
                TensorInfo o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(t.type());
                assertThat(ours.tensorData(o).mismatch(theirs.tensorData(t))).as(t.name() + " bytes").isEqualTo(-1L);
                q4 += t.type() == GgmlType.Q4_0 ? 1 : 0;
            }
            assertThat(q4).isGreaterThan(5);
            assertThat(ours.metadata().asMap()).containsExactlyEntriesOf(theirs.metadata().asMap());
        }
        assertThat(Files.mismatch(out, ref)).as(model).isEqualTo(-1L);
        // the defaults for q4_0 are that same mix
        Path byDefault = tmp.resolve("default4.gguf");
        Quantizer.quantize(in, byDefault, GgmlType.Q4_0, null, null);
        assertThat(Files.mismatch(byDefault, ref)).as(model + " with default types").isEqualTo(-1L);
    }

    @Test
    void storiesKeepsItsNarrowFfnDownInF32() throws IOException {
        Path out = tmp.resolve("s.gguf");
        Quantizer.quantize(Fixtures.file("stories/stories260K-f32.gguf"), out, GgmlType.Q8_0, null, null);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensor("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(f.tensor("blk.0.ffn_down.weight").shape()).containsExactly(172, 64);
            assertThat(f.tensor("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(7);
        }
    }

    /** F16, BF16 and Q4_0 sources decode exactly, so they quantize to the same blocks as their F32 values. */
    @Test
    void f16Bf16AndQ40SourcesQuantizeLikeTheirF32Values() throws IOException {
        int cols = 64;
        int rows = 3;
        float[] v = new float[cols * rows];
        for (int i = 0; i < v.length; i++) {
            // Values exact in F16, BF16 and Q4_0 (scale 0.5, quants -8..7).
            v[i] = ((i * 7) % 16 - 8) * 0.5f;
        }
        ByteBuffer f32 = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer f16 = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer q4 = ByteBuffer.allocate(v.length / 32 * 18).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            f32.putFloat(x);
            f16.putShort(Float.floatToFloat16(x));
            bf16.putShort((short) (Float.floatToRawIntBits(x) >>> 16));
        }
        for (int b = 0; b < v.length / 32; b++) {
            q4.putShort(Float.floatToFloat16(0.5f));
            for (int j = 0; j < 16; j++) {
                int lo = (int) (v[32 * b + j] / 0.5f) + 8;
                int hi = (int) (v[32 * b + j + 16] / 0.5f) + 8;
                q4.put((byte) (lo | hi << 4));
            }
        }
        Path in = tmp.resolve("mixed.gguf");
        GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.ofString("llama"))
                .putUint32("general.file_type", 1);
        for (var e : List.of(new Object[] {"a.f32", GgmlType.F32, f32}, new Object[] {"b.f16", GgmlType.F16, f16},
                new Object[] {"c.bf16", GgmlType.BF16, bf16}, new Object[] {"d.q4", GgmlType.Q4_0, q4})) {
            ByteBuffer data = ((ByteBuffer) e[2]).flip();
            w.tensor((String) e[0], new long[] {cols, rows}, (GgmlType) e[1], sink -> sink.put(data.duplicate()));
        }
        w.tensor("norm", new long[] {cols}, GgmlType.F16, sink -> sink.put(f16.duplicate().limit(cols * 2)));
        w.write(in);
        Path out = tmp.resolve("mixed-q8.gguf");
        Quantizer.quantize(in, out, GgmlType.Q8_0, null, null);
        try (GgufFile f = GgufFile.open(out)) {
            var ref = f.tensorData(f.tensor("a.f32"));
            assertThat(f.tensor("a.f32").type()).isEqualTo(GgmlType.Q8_0);
            for (String n : List.of("b.f16", "c.bf16", "d.q4")) {
                assertThat(f.tensor(n).type()).isEqualTo(GgmlType.Q8_0);
                assertThat(f.tensorData(f.tensor(n)).mismatch(ref)).as(n).isEqualTo(-1L);
            }
            assertThat(f.tensor("norm").type()).as("1-D tensors are kept").isEqualTo(GgmlType.F16);
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(7);
        }
        // Quantizing a Q8_0 file again copies it unchanged.
        Path again = tmp.resolve("again.gguf");
        Quantizer.quantize(out, again, GgmlType.Q8_0, null, null);
        assertThat(Files.mismatch(out, again)).isEqualTo(-1L);
    }

    @Test
    void refusesToOverwriteItsInput() throws IOException {
        Path in = tmp.resolve("x.gguf");
        Files.copy(Fixtures.file("stories/stories260K-f32.gguf"), in);
        assertThatThrownBy(() -> Quantizer.quantize(in, in, GgmlType.Q8_0, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is the input file");
    }
}
