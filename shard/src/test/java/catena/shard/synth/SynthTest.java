package catena.shard.synth;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthTest {
    @TempDir
    Path tmp;

    @Test
    void demoModelLoadsTokenizesAndRunsToFiniteLogits() throws Exception {
        Path f = tmp.resolve("demo.gguf");
        Synth.write(Presets.get("demo-tiny"), GgmlType.Q8_0, f, 7, 0);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(g.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
        }
        assertFiniteAndSpreadLogits(f, "hello there");
    }

    @Test
    void shouldWriteQ40BlocksAndLoadThemAsQ4WhenTypeIsQ40() throws Exception {
        Path f = tmp.resolve("demo-q4.gguf");
        Synth.write(Presets.get("demo-tiny"), GgmlType.Q4_0, f, 7, 0);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(g.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(g.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(g.metadata().getLong("general.file_type")).isEqualTo(2);
        }
        try (Model m = Model.load(f, LoadOptions.defaults()); Model wide = Model.load(f, LoadOptions.defaults().widenQ4(true))) {
            // held: 20 bytes per 32 weights (16 of nibbles, an f32 scale); widened to Q8_0: 36
            assertThat(m.residentBytesPerToken() * 36).isEqualTo(wide.residentBytesPerToken() * 20);
        }
        assertFiniteAndSpreadLogits(f, "hello there");
    }

    @Test
    void shouldWriteTheGivenContextLengthAndKeepTheShapesWhenWithContext() throws Exception {
        Path f = tmp.resolve("demo-ctx.gguf");
        Path g = tmp.resolve("demo.gguf");
        SynthModel preset = Presets.get("demo-tiny");
        Synth.write(preset.withContext(96), GgmlType.Q8_0, f, 7, 0);
        Synth.write(preset, GgmlType.Q8_0, g, 7, 0);
        try (GgufFile a = GgufFile.open(f); GgufFile b = GgufFile.open(g)) {
            String key = a.metadata().getString("general.architecture") + ".context_length";
            assertThat(a.metadata().getLong(key)).isEqualTo(96);
            assertThat(b.metadata().getLong(key)).isNotEqualTo(96);
            assertThat(a.tensor("blk.0.attn_q.weight").shape()).containsExactly(b.tensor("blk.0.attn_q.weight").shape());
        }
    }

    /** The published shapes run too: two layers of gemma3-1b, its full 262144-token vocabulary. */
    @Test
    void gemma3OneBWithTwoLayersRunsToFiniteLogits() throws Exception {
        Path f = tmp.resolve("g1b-2.gguf");
        Synth.write(Presets.get("gemma3-1b"), GgmlType.Q8_0, f, 11, 2);
        try {
            assertFiniteAndSpreadLogits(f, "once upon a time");
        } finally {
            Files.delete(f);
        }
    }

    /** Tokenizes {@code text} with the file's vocabulary, runs it through the model and checks the last logits. */
    private static void assertFiniteAndSpreadLogits(Path f, String text) throws Exception {
        try (GgufFile g = GgufFile.open(f); Model m = Model.load(f, LoadOptions.defaults())) {
            Tokenizer tok = Tokenizer.fromGguf(g.metadata());
            int[] ids = tok.encode(text, true, true);
            assertThat(ids[0]).isEqualTo(2);
            assertThat(tok.decode(ids)).isEqualTo(text);
            float[] x = new float[ids.length * m.config().dim()];
            m.embed(ids, 0, ids.length, x);
            KvCache c = m.newCache();
            m.forward(new Batch().add(c, ids, 0, ids.length), x);
            float[] logits = new float[m.config().vocabSize()];
            m.logits(x, ids.length - 1, logits);
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : logits) {
                assertThat(v).isFinite();
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertThat(max - min).as("logits are not all equal").isGreaterThan(0.01f);
        }
    }

    @Test
    void sameSeedSameBytesAndLayersKeepsAPrefixOfTheModel() throws Exception {
        Path a = tmp.resolve("a.gguf");
        Path b = tmp.resolve("b.gguf");
        Path c = tmp.resolve("c.gguf");
        SynthModel g1b = Presets.get("gemma3-1b");
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.Q8_0}) {
            Synth.write(Presets.get("demo-tiny"), type, a, 3, 0);
            Synth.write(Presets.get("demo-tiny"), type, b, 3, 0);
            assertThat(Files.mismatch(a, b)).as(type.toString()).isEqualTo(-1);
        }
        Synth.write(g1b, GgmlType.Q8_0, c, 3, 1);
        try (GgufFile g = GgufFile.open(c)) {
            assertThat(g.metadata().getLong("gemma3.block_count")).isEqualTo(1);
            assertThat(g.tensor("token_embd.weight").shape()).containsExactly(1152, 262144);
            assertThat(g.tensor("blk.0.ffn_gate.weight").shape()).containsExactly(1152, 6912);
            assertThat(g.tensors()).doesNotContainKey("blk.1.attn_q.weight");
            assertThat(g.metadata().getStringArray("tokenizer.ggml.tokens")).hasSize(262144).doesNotHaveDuplicates();
        }
        Files.delete(c);
    }
}
