package catena.worker.engine;

/**
 * A stage's prefix-cache counters since it loaded: prompts looked up and their tokens, tokens
 * found cached (attached instead of computed), blocks cached now (in use or idle) and idle,
 * blocks evicted to make room, and sequences a later stage could not attach (re-run uncached).
 */
public record PrefixStats(long queries, long queryTokens, long hitTokens, int cachedBlocks, int idleBlocks,
                          long evictions, long misses) {
    /** No prefix cache. */
    public static final PrefixStats NONE = new PrefixStats(0, 0, 0, 0, 0, 0, 0);
}
