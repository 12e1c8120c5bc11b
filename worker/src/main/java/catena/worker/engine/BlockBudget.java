package catena.worker.engine;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A {@link StageKv} that counts blocks over caches the engine allocates itself: each sequence
 * is charged whole blocks of {@code blockTokens} positions for the positions it holds, so the
 * admitted positions never exceed the budget. The engine's caches take 16-position pages from a
 * pool and never grow by copying, so with blocks of a multiple of 16 positions a cache holds at
 * most what it is charged (sliding-window layers less: they give back pages past their window);
 * {@link #release} frees the cache, whose pages return to the pool from the next pass on.
 */
public final class BlockBudget implements StageKv {
    private final StageEngine engine;
    private final int blockTokens;
    private final long bytesPerBlock;
    private final int totalBlocks;
    private final Map<SequenceCache, Integer> charged = new IdentityHashMap<>();
    private int used;

    /**
     * A budget of {@code budgetBytes} for {@code engine}'s caches, in blocks of
     * {@code blockTokens} positions costing {@code bytesPerToken} each.
     */
    public BlockBudget(StageEngine engine, long budgetBytes, int blockTokens, long bytesPerToken) {
        if (blockTokens < 1) {
            throw new IllegalArgumentException("blockTokens=" + blockTokens + ", expected >= 1");
        }
        this.engine = engine;
        this.blockTokens = blockTokens;
        this.bytesPerBlock = Math.max(1, bytesPerToken * blockTokens);
        this.totalBlocks = (int) Math.min(Integer.MAX_VALUE, budgetBytes / bytesPerBlock);
    }

    @Override
    public int blockTokens() {
        return blockTokens;
    }

    @Override
    public long bytesPerBlock() {
        return bytesPerBlock;
    }

    @Override
    public int totalBlocks() {
        return totalBlocks;
    }

    @Override
    public int freeBlocks() {
        return totalBlocks - used;
    }

    @Override
    public SequenceCache newCache() {
        SequenceCache c = engine.newCache();
        charged.put(c, 0);
        return c;
    }

    @Override
    public int blocksFor(SequenceCache cache, int rows) {
        int have = charged.getOrDefault(cache, 0);
        return Math.max(0, blocksFor(cache.length() + rows) - have);
    }

    @Override
    public boolean tryReserve(SequenceCache cache, int rows) {
        Integer have = charged.get(cache);
        if (have == null) {
            throw new IllegalStateException("cache " + cache + " was released or not made by this budget");
        }
        int need = Math.max(0, blocksFor(cache.length() + rows) - have);
        if (need > freeBlocks()) {
            return false;
        }
        used += need;
        charged.put(cache, have + need);
        return true;
    }

    @Override
    public void release(SequenceCache cache) {
        Integer have = charged.remove(cache);
        if (have != null) {
            used -= have;
            cache.free();
        }
    }
}
