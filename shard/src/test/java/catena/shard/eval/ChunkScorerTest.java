package catena.shard.eval;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.Fixtures.RefCase;
import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scorer's rows on stories260K (F32): chunk 0 (which starts with BOS already) against llama.cpp's
 * logits for the same positions; chunk 1 against an independent token-by-token run of the chunk with
 * its first token replaced by BOS, and unlike the run that keeps the text's token.
 */
class ChunkScorerTest {
    private static final int CTX = 16;

    private static RefCase onceCase() {
        return Fixtures.refCases().stream()
                .filter(c -> c.arch().equals("stories") && c.weights().equals("f32") && c.kvCache().equals("f32")
                        && c.promptName().equals("once"))
                .findFirst().orElseThrow();
    }

    private static List<float[]> rows(ChunkScorer scorer, int[] tokens, int chunk, int vocab) throws Exception {
        List<float[]> out = new ArrayList<>();
        scorer.score(tokens, chunk, (k, logits, off) -> {
            assertThat(k).as("rows arrive in order").isEqualTo(out.size());
            float[] row = new float[vocab];
            System.arraycopy(logits, off, row, 0, vocab);
            out.add(row);
        });
        return out;
    }

    @Test
    void shouldMatchLlamaCppRowsWhenTheChunkStartsTheText() throws Exception {
        RefCase c = onceCase();
        int[] tokens = c.teacherTokens(); // 36 tokens, BOS first
        float[] ref = c.referenceLogits();
        ChunkPlan plan = ChunkPlan.of(tokens.length, CTX, -1);
        try (Model m = Model.load(Fixtures.file(c.model()), LoadOptions.keepF32(true))) {
            int vocab = m.config().vocabSize();
            List<float[]> rows = rows(new ChunkScorer(m, plan, tokens[0]), tokens, 0, vocab);
            assertThat(rows).hasSize(plan.scoredPerChunk());
            for (int k = 0; k < rows.size(); k++) {
                int refRow = plan.first() + k;
                for (int v = 0; v < vocab; v++) {
                    float b = ref[refRow * vocab + v];
                    assertThat(Math.abs(rows.get(k)[v] - b)).as("row %d id %d", refRow, v)
                            .isLessThanOrEqualTo(0.05f + 1e-3f * Math.abs(b));
                }
            }
        }
    }

    @Test
    void shouldPutBosFirstWhenTheChunkIsInsideTheText() throws Exception {
        RefCase c = onceCase();
        int[] tokens = c.teacherTokens();
        int bos = tokens[0];
        ChunkPlan plan = ChunkPlan.of(tokens.length, CTX, -1);
        try (Model m = Model.load(Fixtures.file(c.model()), LoadOptions.keepF32(true))) {
            int vocab = m.config().vocabSize();
            List<float[]> withBos = rows(new ChunkScorer(m, plan, bos), tokens, 1, vocab);
            List<float[]> kept = rows(new ChunkScorer(m, plan, -1), tokens, 1, vocab);
            int[] chunk = new int[CTX];
            System.arraycopy(tokens, plan.start(1), chunk, 0, CTX);
            chunk[0] = bos;
            float[] expected = oneByOne(m, chunk);
            double keptDiff = 0;
            for (int k = 0; k < withBos.size(); k++) {
                for (int v = 0; v < vocab; v++) {
                    float e = expected[(plan.first() + k) * vocab + v];
                    assertThat(withBos.get(k)[v]).as("row %d id %d", k, v)
                            .isCloseTo(e, org.assertj.core.data.Offset.offset(1e-3f + 1e-4f * Math.abs(e)));
                    keptDiff = Math.max(keptDiff, Math.abs(kept.get(k)[v] - e));
                }
            }
            assertThat(keptDiff).as("keeping the text's first token changes the logits").isGreaterThan(0.01);
        }
    }

    /** Every position's logits, one token per forward pass: a different path from the scorer's batched one. */
    private static float[] oneByOne(Model m, int[] tokens) {
        int vocab = m.config().vocabSize();
        float[] out = new float[tokens.length * vocab];
        float[] x = new float[m.config().dim()];
        float[] logits = new float[vocab];
        KvCache cache = m.newCache();
        Batch batch = new Batch();
        for (int t = 0; t < tokens.length; t++) {
            m.embed(tokens, t, 1, x);
            batch.clear();
            m.forward(batch.add(cache, tokens, t, 1), x);
            m.logits(x, 0, logits);
            System.arraycopy(logits, 0, out, t * vocab, vocab);
        }
        return out;
    }
}
