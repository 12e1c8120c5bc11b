package catena.worker.engine;

import catena.shard.sample.SamplingParams;

/**
 * Runs a freshly loaded stage's code paths through the JIT before it takes traffic: a prefill
 * (several rows of one sequence), single-sequence decode and batched decode, with the head and
 * the sampler on the last stage. Without it the first requests after a start or a failover run
 * interpreted and C1-compiled kernels for seconds. The caches it makes are freed afterwards
 * (their pages return to the pool at the stage's next pass); the results are not used.
 */
public final class StageWarmup {
    /** Rows of the warm-up prefill (longer prompts reuse the same kernels). */
    static final int PREFILL_ROWS = 32;
    /** Sequences in the batched decode passes. */
    static final int BATCH = 8;

    private StageWarmup() {
    }

    /**
     * Runs {@code rounds} rounds (0: nothing) of prefill, decode and batched decode over {@code engine}.
     * Returns the time it took in nanoseconds.
     */
    public static long run(StageEngine engine, int rounds) {
        long t0 = System.nanoTime();
        if (rounds <= 0) {
            return 0;
        }
        int dim = engine.dim();
        int prefill = Math.max(1, Math.min(PREFILL_ROWS, engine.contextLength() - 4));
        for (int r = 0; r < rounds; r++) {
            // One sequence's prompt, then decoding one sequence alone and BATCH together.
            SequenceCache[] caches = new SequenceCache[BATCH];
            for (int i = 0; i < BATCH; i++) {
                caches[i] = engine.newCache();
            }
            pass(engine, new SequenceCache[] {caches[0]}, new int[] {prefill}, 1, dim);
            pass(engine, new SequenceCache[] {caches[0]}, new int[] {1}, 1, dim);
            int[] ones = new int[BATCH];
            java.util.Arrays.fill(ones, 1);
            for (int step = 0; step < 2; step++) {
                pass(engine, caches, ones, BATCH, dim);
            }
            // Freed, not dropped: their pages belong to the stage's pool, whose budget the stage
            // charges in full; pages kept here would be missing when the budget is full.
            for (SequenceCache c : caches) {
                c.free();
            }
        }
        return System.nanoTime() - t0;
    }

    private static void pass(StageEngine engine, SequenceCache[] caches, int[] counts, int size, int dim) {
        int rows = 0;
        for (int i = 0; i < size; i++) {
            rows += counts[i];
        }
        int[] tokens = new int[rows];
        for (int i = 0; i < rows; i++) {
            // Fixed ordinary ids (not 0, often a special token); any id below the vocabulary works.
            tokens[i] = (i * 7919 + 13) % Math.max(1, engine.vocabSize());
        }
        float[] x = new float[rows * dim];
        if (engine.hasEmbedding()) {
            engine.embed(tokens, rows, x);
        } else {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 0.37) * 0.5f;
            }
        }
        engine.forward(caches, counts, size, tokens, x);
        if (engine.hasHead()) {
            int[] last = new int[size];
            int row = 0;
            for (int i = 0; i < size; i++) {
                row += counts[i];
                last[i] = row - 1;
            }
            int vocab = engine.vocabSize();
            float[] logits = new float[size * vocab];
            engine.logits(x, last, size, logits);
            SamplingParams seeded = new SamplingParams(0.8f, 40, 0.9f, 0.05f, 1.1f, 64, 1);
            for (int i = 0; i < size; i++) {
                engine.sample(logits, i * vocab, i % 2 == 0 ? SamplingParams.GREEDY : seeded, 0, tokens, 1);
            }
        }
    }
}
