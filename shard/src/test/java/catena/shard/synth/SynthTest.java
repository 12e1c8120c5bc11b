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
        try (GgufFile g = GgufFile.open(f); Model m = Model.load(f, LoadOptions.defaults())) {
            assertThat(g.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(g.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
            Tokenizer tok = Tokenizer.fromGguf(g.metadata());
            int[] ids = tok.encode("hello there", true, true);
            assertThat(ids[0]).isEqualTo(2);
            assertThat(tok.decode(ids)).isEqualTo("hello there");
            float[] x = new float[ids.length * m.config().dim()];
            m.embed(ids, 0, ids.length, x);
            KvCache c = m.newCache();
            m.forward(new Batch().add(c, ids, 0, ids.length), x);
            float[] logits = new float[m.config().vocabSize()];
            m.logits(x, ids.length - 1, logits);
            float spread = 0;
            for (float v : logits) {
                assertThat(v).isFinite();
                spread = Math.max(spread, Math.abs(v - logits[0]));
            }
            assertThat(spread).as("logits are not all equal").isGreaterThan(0.01f);
        }
    }

    @Test
    void sameSeedSameBytesAndLayersKeepsAPrefixOfTheModel() throws Exception {
        Path a = tmp.resolve("a.gguf");
        Path b = tmp.resolve("b.gguf");
        Path c = tmp.resolve("c.gguf");
        SynthModel g1b = Presets.get("gemma3-1b");
        Synth.write(Presets.get("demo-tiny"), GgmlType.F32, a, 3, 0);
        Synth.write(Presets.get("demo-tiny"), GgmlType.F32, b, 3, 0);
        assertThat(Files.mismatch(a, b)).isEqualTo(-1);
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
