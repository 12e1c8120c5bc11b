package catena.shard.eval;

import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.Model;

/**
 * Runs the chunks of a {@link ChunkPlan} through a whole model, each from an empty KV cache (llama.cpp
 * clears its memory before every chunk), with the chunk's first token replaced by BOS when the
 * vocabulary adds one, and hands over the logits of the scored rows. The head runs over a few rows at
 * a time so that a large vocabulary does not need [ctx/2][vocab] floats at once.
 */
public final class ChunkScorer {
    private static final int HEAD_ROWS = 16;

    /** Receives the logits of scored row {@code k} of a chunk in {@code logits[off .. off+vocab)}. */
    @FunctionalInterface
    public interface RowSink {
        void accept(int k, float[] logits, int off) throws java.io.IOException;
    }

    private final Model model;
    private final ChunkPlan plan;
    private final int bos;
    private final int vocab;
    private final int[] chunkTokens;
    private final float[] x;
    private final float[] logits;
    private final int[] rows = new int[HEAD_ROWS];
    private final Batch batch = new Batch();

    /** {@code bos}: the id that replaces each chunk's first token, or -1 to keep the text's token. */
    public ChunkScorer(Model model, ChunkPlan plan, int bos) {
        if (!model.hasEmbedding() || !model.hasHead()) {
            throw new IllegalArgumentException("perplexity needs a whole model, not a slice of layers ["
                    + model.fromLayer() + ", " + model.toLayer() + ")");
        }
        if (plan.ctx() > model.config().contextLength()) {
            throw new IllegalArgumentException("--ctx=" + plan.ctx() + ", expected at most the model's context_length="
                    + model.config().contextLength());
        }
        this.model = model;
        this.plan = plan;
        this.bos = bos;
        this.vocab = model.config().vocabSize();
        this.chunkTokens = new int[plan.ctx()];
        this.x = new float[plan.ctx() * model.config().dim()];
        this.logits = new float[HEAD_ROWS * vocab];
    }

    public int vocab() {
        return vocab;
    }

    /** Evaluates chunk {@code chunk} of {@code tokens} and passes every scored row to {@code sink}, in order. */
    public void score(int[] tokens, int chunk, RowSink sink) throws java.io.IOException {
        int ctx = plan.ctx();
        System.arraycopy(tokens, plan.start(chunk), chunkTokens, 0, ctx);
        if (bos >= 0) {
            chunkTokens[0] = bos;
        }
        model.embed(chunkTokens, 0, ctx, x);
        batch.clear();
        KvCache cache = model.newCache();
        model.forward(batch.add(cache, chunkTokens, 0, ctx), x);
        // the cache's off-heap pages go back to the pool at the next pass
        cache.free();
        int n = plan.scoredPerChunk();
        for (int k0 = 0; k0 < n; k0 += HEAD_ROWS) {
            int count = Math.min(HEAD_ROWS, n - k0);
            for (int j = 0; j < count; j++) {
                rows[j] = plan.first() + k0 + j;
            }
            model.logits(x, rows, count, logits);
            for (int j = 0; j < count; j++) {
                sink.accept(k0 + j, logits, j * vocab);
            }
        }
    }
}
