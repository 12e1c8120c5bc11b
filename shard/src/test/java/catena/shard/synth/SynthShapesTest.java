package catena.shard.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufMetadata;
import catena.shard.gguf.TensorInfo;
import catena.shard.tensor.Dequant;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shapes, metadata and value spreads of the published presets. */
class SynthShapesTest {
    @TempDir
    Path tmp;

    @Test
    void gemma3OneBHasThePublishedShapes() throws IOException {
        Path p = tmp.resolve("g1b.gguf");
        Synth.write(Presets.get("gemma3-1b"), GgmlType.Q8_0, p, 7, 2);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertThat(m.getString("general.architecture")).isEqualTo("gemma3");
            assertThat(m.getLong("gemma3.block_count")).isEqualTo(2);
            assertThat(m.getLong("gemma3.embedding_length")).isEqualTo(1152);
            assertThat(m.getLong("gemma3.feed_forward_length")).isEqualTo(6912);
            assertThat(m.getLong("gemma3.attention.head_count")).isEqualTo(4);
            assertThat(m.getLong("gemma3.attention.head_count_kv")).isEqualTo(1);
            assertThat(m.getLong("gemma3.attention.key_length")).isEqualTo(256);
            assertThat(m.getLong("gemma3.attention.sliding_window")).isEqualTo(512);
            assertThat(m.getLong("gemma3.attention.sliding_window_pattern")).isEqualTo(6);
            assertThat(m.getFloat("gemma3.rope.freq_base")).isEqualTo(1e6f);
            assertThat(m.getFloat("gemma3.rope.freq_base_swa")).isEqualTo(1e4f);
            assertThat(m.getLong("general.file_type")).isEqualTo(7);
            String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(262144).doesNotHaveDuplicates();
            assertThat(m.getFloatArray("tokenizer.ggml.scores")).hasSize(262144);
            assertThat(m.getIntArray("tokenizer.ggml.token_type")).hasSize(262144);
            assertThat(List.of(tokens).subList(0, 7)).containsExactly("<pad>", "<eos>", "<bos>", "<unk>", "<mask>",
                    "<start_of_turn>", "<end_of_turn>");
            assertThat(tokens[9]).isEqualTo("<0x00>");
            assertThat(tokens[9 + 255]).isEqualTo("<0xFF>");
            assertThat(m.getLong("tokenizer.ggml.bos_token_id")).isEqualTo(2);
            assertThat(m.getBool("tokenizer.ggml.add_bos_token", false)).isTrue();

            assertShape(f, "token_embd.weight", GgmlType.Q8_0, 1152, 262144);
            assertShape(f, "blk.1.attn_q.weight", GgmlType.Q8_0, 1152, 1024);
            assertShape(f, "blk.1.attn_k.weight", GgmlType.Q8_0, 1152, 256);
            assertShape(f, "blk.1.attn_v.weight", GgmlType.Q8_0, 1152, 256);
            assertShape(f, "blk.1.attn_output.weight", GgmlType.Q8_0, 1024, 1152);
            assertShape(f, "blk.1.ffn_gate.weight", GgmlType.Q8_0, 1152, 6912);
            assertShape(f, "blk.1.ffn_up.weight", GgmlType.Q8_0, 1152, 6912);
            assertShape(f, "blk.1.ffn_down.weight", GgmlType.Q8_0, 6912, 1152);
            assertShape(f, "blk.1.attn_q_norm.weight", GgmlType.F32, 256);
            assertShape(f, "blk.0.post_ffw_norm.weight", GgmlType.F32, 1152);
            assertShape(f, "output_norm.weight", GgmlType.F32, 1152);
            assertThat(f.tensors()).hasSize(1 + 2 * 13 + 1);

            // Weights spread about 0.02, norms 1.
            float[] w = new float[1152 * 64];
            TensorInfo q = f.tensor("blk.0.attn_q.weight");
            Dequant.decode(q.type(), f.tensorData(q), 0, w, 0, w.length);
            double sq = 0;
            for (float v : w) {
                sq += v * v;
            }
            assertThat(Math.sqrt(sq / w.length)).isBetween(0.018, 0.022);
            float[] norm = new float[1152];
            TensorInfo n = f.tensor("output_norm.weight");
            Dequant.decode(n.type(), f.tensorData(n), 0, norm, 0, norm.length);
            for (float v : norm) {
                assertThat(v).isEqualTo(1f);
            }
        }
    }

    @Test
    void gemma3FourBUsesItsPaddedVocabAndRopeScaling() throws IOException {
        Path p = tmp.resolve("g4b.gguf");
        Synth.write(Presets.get("gemma3-4b"), GgmlType.Q8_0, p, 1, 1);
        try (GgufFile f = GgufFile.open(p)) {
            assertShape(f, "token_embd.weight", GgmlType.Q8_0, 2560, 262208);
            assertShape(f, "blk.0.attn_q.weight", GgmlType.Q8_0, 2560, 2048);
            assertShape(f, "blk.0.attn_k.weight", GgmlType.Q8_0, 2560, 1024);
            assertShape(f, "blk.0.ffn_down.weight", GgmlType.Q8_0, 10240, 2560);
            assertThat(f.metadata().getFloat("gemma3.rope.scaling.factor")).isEqualTo(8f);
            assertThat(f.metadata().getLong("gemma3.attention.sliding_window")).isEqualTo(1024);
            assertThat(f.metadata().getLong("general.file_type")).isEqualTo(7);
        }
    }

    @Test
    void otherSeedOtherBytes() throws IOException {
        Path a = tmp.resolve("a.gguf");
        Path c = tmp.resolve("c.gguf");
        Synth.write(Presets.get("demo-tiny"), GgmlType.Q8_0, a, 42, 0);
        Synth.write(Presets.get("demo-tiny"), GgmlType.Q8_0, c, 43, 0);
        try (GgufFile fa = GgufFile.open(a); GgufFile fc = GgufFile.open(c)) {
            for (TensorInfo t : fa.tensors().values()) {
                if (t.type() == GgmlType.Q8_0) {
                    assertThat(fa.tensorData(t).mismatch(fc.tensorData(fc.tensor(t.name())))).as(t.name()).isNotEqualTo(-1L);
                }
            }
        }
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        assertThatThrownBy(() -> Presets.get("gemma9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gemma3-1b").hasMessageContaining("demo-tiny");
    }

    private static void assertShape(GgufFile f, String name, GgmlType type, long... shape) {
        TensorInfo t = f.tensor(name);
        assertThat(t).as(name).isNotNull();
        assertThat(t.shape()).as(name).containsExactly(shape);
        assertThat(t.type()).as(name).isEqualTo(type);
    }
}
