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
     * Leading positions of {@code tokens[0 .. len)} whose KV this stage holds in its prefix cache
     * (a multiple of {@link #blockTokens()}; 0 without a prefix cache).
     */
    default int cachedPrefix(int[] tokens, int len) {
        return 0;
    }

    /** Attaches the first {@code n} positions (from {@link #cachedPrefix}) to an empty cache; false if no longer held. */
    default boolean attachPrefix(SequenceCache cache, int[] tokens, int n) {
        return n == 0;
    }

    /** Bytes held by all caches now. */
    default long usedBytes() {
        return (long) (totalBlocks() - freeBlocks()) * bytesPerBlock();
    }
}
