package catena.shard.synth;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.model.ModelConfig;
import catena.shard.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 4 synth files load and run. A miniature of the same preset class keeps the files small
 * while exercising everything at once (PLE, KV sharing, K=V, MoE, double-wide shared-layer MLP);
 * the real presets' numbers are checked against GEMMA_SPEC.md §12.2 without writing them.
 */
class Gemma4SynthTest {
    static final Gemma4Preset MINI = new Gemma4Preset("gemma4-mini", 6, 128, 4, 2, 1, 32, 64, 256, 512, 2, 8,
            16, 2, true, 4, 2, 64, 600, 256);

    @TempDir
    Path tmp;

    @Test
    void miniatureLoadsTokenizesAndRunsToFiniteLogits() throws Exception {
        Path f = tmp.resolve("mini.gguf");
        Synth.write(MINI, GgmlType.Q8_0, f, 5, 0);
        try (GgufFile g = GgufFile.open(f); Model m = Model.load(f, LoadOptions.defaults())) {
            ModelConfig c = m.config();
            assertThat(c.pleDim()).isEqualTo(16);
            assertThat(c.experts()).isEqualTo(4);
            assertThat(c.layer(4).kvSource()).isEqualTo(2);
            assertThat(c.layer(5).kvSource()).isEqualTo(3);
            assertThat(c.layer(5).ffnDim()).isEqualTo(512);
            assertThat(g.tensors()).doesNotContainKey("blk.1.attn_v.weight").containsKey("blk.0.attn_v.weight")
                    .doesNotContainKey("blk.4.attn_k.weight");
            assertThat(g.tensor("blk.0.ffn_gate_inp.weight").type()).isEqualTo(GgmlType.F32);
            Tokenizer tok = Tokenizer.fromGguf(g.metadata());
            int[] ids = tok.encode("hello there", true, true);
            assertThat(ids[0]).isEqualTo(2);
            assertThat(ids.length).as("merges apply").isLessThan("hello there".length());
            assertThat(tok.decode(ids)).isEqualTo("hello there");
            float[] x = new float[ids.length * c.dim()];
            m.embed(ids, 0, ids.length, x);
            KvCache cache = m.newCache();
            m.forward(new Batch().add(cache, ids, 0, ids.length), x);
            float[] logits = new float[c.vocabSize()];
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
    void everyMergeJoinsTwoTokensIntoAToken() throws Exception {
        Path f = tmp.resolve("vocab.gguf");
        Synth.write(MINI, GgmlType.Q8_0, f, 5, 1);
        try (GgufFile g = GgufFile.open(f)) {
            String[] tokens = g.metadata().getStringArray("tokenizer.ggml.tokens");
            Set<String> vocab = new HashSet<>(Arrays.asList(tokens));
            assertThat(vocab).hasSize(600).contains("<|turn>", "<turn|>", "<|channel>", "<channel|>");
            assertThat(tokens[5]).isEqualTo("<|turn>");
            String[] merges = g.metadata().getStringArray("tokenizer.ggml.merges");
            assertThat(merges).isNotEmpty();
            for (String mg : merges) {
                String[] parts = mg.split(" ");
                assertThat(vocab).as(mg).contains(parts[0], parts[1], parts[0] + parts[1]);
            }
        }
    }

    @Test
    void layersKeepsTheFirstLayersAndWhereKvSharingStarts() throws Exception {
        Path five = tmp.resolve("five.gguf");
        Synth.write(MINI, GgmlType.Q8_0, five, 5, 5);
        try (Model m = Model.load(five, LoadOptions.defaults())) {
            assertThat(m.config().layerCount()).isEqualTo(5);
            assertThat(m.config().ownsKv(3)).isTrue();
            assertThat(m.config().layer(4).kvSource()).isEqualTo(2);
        }
        Path three = tmp.resolve("three.gguf");
        Synth.write(MINI, GgmlType.Q8_0, three, 5, 3);
        try (Model m = Model.load(three, LoadOptions.defaults())) {
            assertThat(m.config().layerCount()).isEqualTo(3);
            assertThat(m.config().stageMayStartAt(1)).isTrue();
        }
    }

    @Test
    void realPresetsHaveTheSpecShapes() {
        Gemma4Preset e2b = (Gemma4Preset) Presets.get("gemma4-e2b");
        assertThat(e2b.layerCount()).isEqualTo(35);
        assertThat(e2b.sliding(4) || e2b.sliding(34)).isFalse();
        assertThat(e2b.sliding(13) && e2b.sliding(3)).isTrue();
        Gemma4Preset e4b = (Gemma4Preset) Presets.get("gemma4-e4b");
        assertThat(e4b.sliding(5) || e4b.sliding(41)).isFalse();
        Gemma4Preset moe = (Gemma4Preset) Presets.get("gemma4-26b-a4b");
        assertThat(moe.experts()).isEqualTo(128);
        assertThat(moe.expertsUsed()).isEqualTo(8);
        assertThat(moe.expertFfn()).isEqualTo(704);
        assertThat(moe.kEqV()).isTrue();
        Gemma4Preset dense = (Gemma4Preset) Presets.get("gemma4-31b");
        assertThat(dense.dim()).isEqualTo(5376);
        assertThat(dense.kvHeadsGlobal()).isEqualTo(4);
        for (String name : new String[] {"gemma4-e2b", "gemma4-e4b", "gemma4-26b-a4b", "gemma4-31b"}) {
            Gemma4Preset p = (Gemma4Preset) Presets.get(name);
            assertThat(p.sliding(p.layerCount() - 1)).as(name + " ends with a global layer").isFalse();
        }
    }
}
