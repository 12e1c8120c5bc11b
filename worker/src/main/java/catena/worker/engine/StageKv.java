package catena.worker.engine;

/**
 * A stage's KV-cache memory as a budget of blocks of {@link #blockTokens()} positions each (for
 * every layer the stage holds). The scheduler asks before every forward pass how many blocks the
 * rows would take and reserves them; a pass never grows a cache beyond what was reserved. Used by
 * the stage actor only (one thread at a time).
 */
public interface StageKv {

    /** Positions per block. */
    int blockTokens();

    /** Bytes one block holds (all of the stage's layers). */
    long bytesPerBlock();

    /** Blocks the budget holds. */
    int totalBlocks();

    /** Blocks free now (including cached blocks nobody references, which can be reclaimed). */
    int freeBlocks();

    /** A new, empty cache taking its blocks from this budget. */
    SequenceCache newCache();

    /** Blocks {@code rows} more positions of {@code cache} would take beyond what it holds. */
    int blocksFor(SequenceCache cache, int rows);

    /** Blocks a sequence of {@code tokens} positions takes from scratch. */
    default int blocksFor(int tokens) {
        return (tokens + blockTokens() - 1) / blockTokens();
    }

    /** Takes the blocks for {@code rows} more positions of {@code cache}, or takes nothing and returns false. */
    boolean tryReserve(SequenceCache cache, int rows);

    /** Returns every block of {@code cache} to the budget; the cache must not be used again. */
    void release(SequenceCache cache);

    /**
     * Leading positions of {@code tokens[0 .. len)} whose KV this stage holds in its prefix cache:
     * a multiple of {@link #blockTokens()} below {@code len} (at least one token is left to run, whose
     * logits the sequence needs); 0 without a prefix cache. Counts a prefix query and its hit.
     */
    default int cachedPrefix(int[] tokens, int len) {
        return 0;
    }

    /**
     * Attaches the first {@code n} positions of {@code tokens} (a multiple of {@link #blockTokens()})
     * from the prefix cache to the empty {@code cache}, shared read-only; false (nothing attached)
     * if they are no longer all held.
     */
    default boolean attachPrefix(SequenceCache cache, int[] tokens, int n) {
        return n == 0;
    }

    /**
     * A pass wrote {@code tokens[off .. off+n)} at the end of {@code cache} (its length already
     * counts them): the blocks they complete join the prefix cache. Called between passes.
     */
    default void wrote(SequenceCache cache, int[] tokens, int off, int n) {
    }

    /** The prefix cache's counters (all zero without one). */
    default PrefixStats prefixStats() {
        return PrefixStats.NONE;
    }

    /** A later stage lacked blocks stage 0 attached (the sequence is re-run without the cache). */
    default void prefixMissed() {
    }

    /** Bytes held by all caches now. */
    default long usedBytes() {
        return (long) (totalBlocks() - freeBlocks()) * bytesPerBlock();
    }
}
