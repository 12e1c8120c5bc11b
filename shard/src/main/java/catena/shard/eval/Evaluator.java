package catena.shard.eval;

import java.io.IOException;

/** The two evaluation loops over a plan's chunks: perplexity (optionally saving a base run) and KL divergence against a saved base. */
public final class Evaluator {
    private Evaluator() {
    }

    /** Told after each chunk, with the running estimate (llama.cpp prints {@code [i]ppl,}). */
    @FunctionalInterface
    public interface Progress {
        void chunkDone(int chunk, int chunks, double runningPpl);
    }

    /**
     * Scores every chunk of {@code plan} over {@code tokens}; with {@code save} non-null also writes
     * each scored row's log-probabilities, making this run a base for {@link #klDivergence}.
     */
    public static NllStats perplexity(ChunkScorer scorer, ChunkPlan plan, int[] tokens, LogProbWriter save,
                                      Progress progress) throws IOException {
        int vocab = scorer.vocab();
        NllStats stats = new NllStats();
        float[] logProbs = save == null ? null : new float[vocab];
        for (int c = 0; c < plan.chunks(); c++) {
            int chunk = c;
            scorer.score(tokens, chunk, (k, logits, off) -> {
                int target = tokens[plan.target(chunk, k)];
                stats.add(LogSoftmax.nll(logits, off, vocab, target));
                if (save != null) {
                    LogSoftmax.logProbs(logits, off, vocab, logProbs, 0);
                    save.writeRow(logProbs, 0);
                }
            });
            progress.chunkDone(chunk, plan.chunks(), stats.ppl());
        }
        return stats;
    }

    /** Scores the first {@code plan.chunks()} chunks of a saved base run's tokens against its log-probabilities. */
    public static KlStats klDivergence(ChunkScorer scorer, ChunkPlan plan, LogProbReader base, Progress progress)
            throws IOException {
        int vocab = scorer.vocab();
        if (base.vocab() != vocab) {
            throw new IllegalArgumentException("base run: vocab=" + base.vocab() + ", expected the model's vocab="
                    + vocab);
        }
        int[] tokens = base.tokens();
        float[] baseRows = new float[plan.scoredPerChunk() * vocab];
        KlStats stats = new KlStats();
        NllStats running = new NllStats();
        for (int c = 0; c < plan.chunks(); c++) {
            int chunk = c;
            base.readChunk(chunk, baseRows);
            scorer.score(tokens, chunk, (k, logits, off) -> {
                int target = tokens[plan.target(chunk, k)];
                int b = k * vocab;
                double nll = LogSoftmax.nll(logits, off, vocab, target);
                boolean sameTop = LogSoftmax.argmax(baseRows, b, vocab) == LogSoftmax.argmax(logits, off, vocab);
                stats.add(KlDivergence.of(baseRows, b, logits, off, vocab), sameTop, nll, -baseRows[b + target]);
                running.add(nll);
            });
            progress.chunkDone(chunk, plan.chunks(), running.ppl());
        }
        return stats;
    }
}
