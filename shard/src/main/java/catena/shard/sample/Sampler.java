package catena.shard.sample;

/**
 * Picks the next token. A pure function of (logits, params, history, step): the random draw of
 * step k comes from a counter-based generator keyed by (seed, k), so any replica can resume a
 * sequence at step k and produce the same tokens.
 */
public final class Sampler {
    private Sampler() {
    }

    /**
     * The next token from {@code logits[off .. off+vocab)} (not modified). {@code history} holds
     * prompt + generated ids ({@code historyLen} of them) for the repetition penalty; {@code step}
     * is the index of the token being generated.
     */
    public static int sample(float[] logits, int off, int vocab, SamplingParams p, long step, int[] history,
                             int historyLen) {
        throw new UnsupportedOperationException("sampler not built yet");
    }
}
