package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.TensorInfo;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Gemma 4 specifics beyond the logits: active bytes of MoE, KV sharing's memory, pipeline stages. */
class Gemma4Test {
    static final int[] PROMPT = {2, 5, 300, 301, 17, 99, 640, 7, 1000, 12, 13, 14, 15, 16, 400, 401, 402, 403, 404,
        405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417};

    @Test
    void moeBytesPerTokenCountOnlyTheRouterAndTheTopKExperts() throws Exception {
        Path path = Fixtures.file("tiny/tiny-gemma4-moe-q8_0.gguf");
        long all = 0;
        long active = 0;
        try (GgufFile f = GgufFile.open(path)) {
            int experts = f.metadata().getInt("gemma4.expert_count", 1);
            int used = f.metadata().getInt("gemma4.expert_used_count", 1);
            for (TensorInfo t : f.tensors().values()) {
                boolean weight = t.shape().length >= 2 && (t.name().startsWith("blk.") || t.name().equals("token_embd.weight"));
                if (weight) {
                    all += t.byteSize();
                    active += t.name().endsWith("_exps.weight") ? t.byteSize() / experts * used : t.byteSize();
                }
            }
        }
        try (Model m = Model.load(path, LoadOptions.defaults())) {
            assertThat(m.bytesPerToken()).isEqualTo(active).isLessThan(all);
        }
    }

    @Test
    void kvSharedLayersHoldNoCache() throws Exception {
        Path path = Fixtures.file("tiny/tiny-gemma4-ple-f32.gguf");
        try (Model m = Model.load(path, LoadOptions.keepF32(true))) {
            ModelConfig c = m.config();
            assertThat(c.ownsKv(0) && c.ownsKv(1) && !c.ownsKv(2) && !c.ownsKv(3)).isTrue();
            // Only layers 0 and 1 own a cache: the whole model's cache weighs what those two layers' does.
            KvCache owners = new KvCache(c, 0, 2, m.kvPool());
            owners.reserve(PROMPT.length);
            KvCache cache = m.newCache();
            float[] x = new float[PROMPT.length * c.dim()];
            m.embed(PROMPT, 0, PROMPT.length, x);
            m.forward(new Batch().add(cache, PROMPT, 0, PROMPT.length), x);
            assertThat(cache.bytes()).isPositive().isEqualTo(owners.bytes());
        }
    }

    @Test
    void stagesMustNotSeparateKvSharersFromTheirDonors() throws Exception {
        Path ple = Fixtures.file("tiny/tiny-gemma4-ple-f32.gguf");
        // Layers 2 (local) and 3 (global) read layers 0 and 1: no split of this 4-layer model is legal.
        assertThat(Model.stageBoundariesAllowed(ple)).containsExactly(true, false, false, false, true);
        assertThatThrownBy(() -> Model.load(ple, LoadOptions.defaults().layers(0, 2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shared_kv_layers").hasMessageContaining("only at layers 0");
        assertThat(Model.stageBoundariesAllowed(Fixtures.file("tiny/tiny-gemma4-f32.gguf")))
                .containsExactly(true, true, true, true, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny/tiny-gemma4-q8_0.gguf", "tiny/tiny-gemma4-moe-q8_0.gguf"})
    void pipelineStagesReproduceTheWholeModel(String file) throws Exception {
        Path path = Fixtures.file(file);
        float[] whole = Runs.teacherForced(path, false, PROMPT, 20);
        int[][] ranges = {{0, 1}, {1, 3}, {3, 4}};
        Model[] stages = new Model[ranges.length];
        try {
            for (int i = 0; i < stages.length; i++) {
                stages[i] = Model.load(path, LoadOptions.defaults().layers(ranges[i][0], ranges[i][1]));
            }
            int vocab = stages[0].config().vocabSize();
            assertThat(stages[2].bytesPerToken() + stages[1].bytesPerToken() + stages[0].bytesPerToken())
                    .isEqualTo(bytesPerToken(path));
            KvCache[] caches = {stages[0].newCache(), stages[1].newCache(), stages[2].newCache()};
            float[] x = new float[20 * stages[0].config().dim()];
            float[] logits = new float[vocab];
            Batch batch = new Batch();
            for (int off = 0; off < PROMPT.length; ) {
                int n = off == 0 ? 20 : 1;
                stages[0].embed(PROMPT, off, n, x);
                for (int i = 0; i < stages.length; i++) {
                    batch.clear();
                    stages[i].forward(batch.add(caches[i], PROMPT, off, n), x);
                }
                for (int r = 0; r < n; r++) {
                    stages[2].logits(x, r, logits);
                    for (int v = 0; v < vocab; v++) {
                        // The same operations in the same order: identical results.
                        assertThat(logits[v]).as("position %d id %d", off + r, v).isEqualTo(whole[(off + r) * vocab + v]);
                    }
                }
                off += n;
            }
        } finally {
            for (Model m : stages) {
                if (m != null) {
                    m.close();
                }
            }
        }
    }

    private static long bytesPerToken(Path path) throws Exception {
        try (Model m = Model.load(path, LoadOptions.defaults())) {
            return m.bytesPerToken();
        }
    }
}
