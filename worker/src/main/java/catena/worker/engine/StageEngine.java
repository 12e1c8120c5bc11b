package catena.worker.engine;

import catena.shard.sample.SamplingParams;

/**
 * Layers [fromLayer, toLayerExclusive) of a model. Not thread-safe: a stage calls it from one
 * compute thread at a time. Activations are row-major float arrays [rows][dim].
 */
public interface StageEngine extends AutoCloseable {
    int fromLayer();

    int toLayerExclusive();

    int layerCount();

    /** Width of a hidden row. */
    int dim();

    int vocabSize();

    int contextLength();

    default boolean hasEmbedding() {
        return fromLayer() == 0;
    }

    default boolean hasHead() {
        return toLayerExclusive() == layerCount();
    }

    /**
     * KV-cache bytes one more position of a sequence costs on this stage (keys and values of every
     * layer that holds its own cache; sliding-window layers counted in full, which overstates a
     * long sequence's cost and so keeps the budget safe).
     */
    long kvBytesPerToken();

    /**
     * The bytes this stage's KV pool may hold (its caches' pages), or -1 when the engine keeps no
     * pool of its own and the stage's configured budget applies.
     */
    default long kvBudgetBytes() {
        return -1;
    }

    /** How caches store keys and values: f32, f16 or q8_0. */
    default String kvType() {
        return "f32";
    }

    /** Bytes of KV pages in use in the pool now (-1 without a pool). */
    default long kvPoolUsedBytes() {
        return -1;
    }

    /** A fresh, empty cache for one sequence. */
    SequenceCache newCache();

    /**
     * Whether this engine can share blocks of {@code blockTokens} positions between caches (the
     * prefix cache): false unless its storage is paged in units that divide the block.
     */
    default boolean canShare(int blockTokens) {
        return false;
    }

    /**
     * Shares positions [firstPosition, firstPosition + positions) of {@code cache}, which are written
     * and will never be written again (they lie before its length): the block keeps their memory
     * until released, whatever becomes of the cache. Called between passes (none running).
     */
    default SharedKv share(SequenceCache cache, int firstPosition, int positions) {
        throw new UnsupportedOperationException("this engine does not share KV blocks");
    }

    /**
     * Makes the blocks, in order from position 0, the start of the empty {@code cache}, read-only:
     * its length becomes their positions and its next pass continues after them. Called between
     * passes (none running).
     */
    default void attach(SequenceCache cache, java.util.List<SharedKv> blocks, int positions) {
        throw new UnsupportedOperationException("this engine does not share KV blocks");
    }

    /** Embeds {@code n} tokens into {@code x[0 .. n*dim)} (first stage only). */
    void embed(int[] tokens, int n, float[] x);

    /**
     * Runs the layers over a batch in place: sequence i owns {@code counts[i]} consecutive rows,
     * continuing {@code caches[i]}; {@code size} sequences, each at most once. {@code tokens}
     * holds the token id of every row.
     */
    void forward(SequenceCache[] caches, int[] counts, int size, int[] tokens, float[] x);

    /**
     * Final norm and head on rows {@code rows[0 .. count)} of {@code x} in one pass over the head,
     * into {@code logits} as [count][vocab] (last stage only).
     */
    void logits(float[] x, int[] rows, int count, float[] logits);

    /** The next token from {@code logits[off .. off+vocab)} (pure function; see catena.shard.sample.Sampler). */
    int sample(float[] logits, int off, SamplingParams params, long step, int[] history, int historyLen);

    @Override
    void close();
}
