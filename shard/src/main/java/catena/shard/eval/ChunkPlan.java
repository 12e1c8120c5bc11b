package catena.shard.eval;

/**
 * How llama.cpp's perplexity cuts a tokenized text: {@code chunks} consecutive chunks of {@code ctx}
 * tokens (the tail that does not fill a chunk is dropped), each evaluated from a fresh context with
 * its first token replaced by BOS (when the vocabulary adds one), and scored on its second half only:
 * the logits at chunk positions {@code first() .. ctx-2} predict the tokens at {@code first()+1 .. ctx-1},
 * so each chunk contributes {@code ctx - 1 - ctx/2} predictions (63 for ctx 128, not 64), because the
 * first half is there only to give every scored token at least ctx/2 tokens of context.
 */
public record ChunkPlan(int ctx, int chunks) {
    /** The smallest context with at least one scored token per chunk. */
    public static final int MIN_CTX = 3;

    public ChunkPlan {
        if (ctx < MIN_CTX) {
            throw new IllegalArgumentException("chunk plan: ctx=" + ctx + ", expected at least " + MIN_CTX);
        }
        if (chunks < 1) {
            throw new IllegalArgumentException("chunk plan: chunks=" + chunks + ", expected at least 1");
        }
    }

    /**
     * llama.cpp's plan for {@code tokenCount} tokens: all whole chunks, or {@code requested} of them when
     * that is positive and fewer. Like llama.cpp it refuses texts shorter than two chunks.
     */
    public static ChunkPlan of(int tokenCount, int ctx, int requested) {
        if (ctx < MIN_CTX) {
            throw new IllegalArgumentException("--ctx=" + ctx + ", expected at least " + MIN_CTX);
        }
        if (tokenCount < 2L * ctx) {
            throw new IllegalArgumentException("text too short: tokens=" + tokenCount + ", expected at least 2*ctx="
                    + 2L * ctx + " (llama.cpp's rule for a context of " + ctx + ")");
        }
        int max = tokenCount / ctx;
        return new ChunkPlan(ctx, requested > 0 ? Math.min(requested, max) : max);
    }

    /** Index into the whole token list of chunk {@code i}'s first token. */
    public int start(int chunk) {
        return chunk * ctx;
    }

    /** Chunk position of the first logits row that is scored. */
    public int first() {
        return ctx / 2;
    }

    /** Predictions scored per chunk. */
    public int scoredPerChunk() {
        return ctx - 1 - first();
    }

    /** Predictions scored over the whole plan. */
    public long scoredTotal() {
        return (long) chunks * scoredPerChunk();
    }

    /** Index into the whole token list of the token that scored row {@code k} of chunk {@code i} predicts. */
    public int target(int chunk, int k) {
        return start(chunk) + first() + 1 + k;
    }

    /** Tokens the plan covers (the text's tail beyond is not evaluated). */
    public int tokensUsed() {
        return chunks * ctx;
    }
}
