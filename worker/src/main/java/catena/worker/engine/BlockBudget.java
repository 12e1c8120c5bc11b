package catena.worker.engine;

import catena.worker.prefix.BlockHash;
import catena.worker.prefix.PrefixChain;
import catena.worker.prefix.PrefixIndex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link StageKv} that counts blocks over caches the engine allocates itself: each sequence
 * is charged whole blocks of {@code blockTokens} positions for the positions it holds, so the
 * admitted positions never exceed the budget. The engine's caches take 16-position pages from a
 * pool and never grow by copying, so with blocks of a multiple of 16 positions a cache holds at
 * most what it is charged (sliding-window layers less: they give back pages past their window);
 * {@link #release} frees the cache, whose pages return to the pool from the next pass on.
 *
 * <p>With the prefix cache on, every full block a sequence computes joins a {@link PrefixIndex}
 * under the name of its token chain (unless a block of that name is cached already), and a new
 * sequence whose prompt starts with cached blocks attaches them instead of computing them. A
 * cached block is charged once, to the cache, however many sequences use it; when the last lets
 * go it stays cached (idle) and counts as free, and is evicted, least recently used first, only
 * when a reservation needs its room. Used by the stage actor only (one thread at a time).
 */
public final class BlockBudget implements StageKv {
    private final StageEngine engine;
    private final int blockTokens;
    private final long bytesPerBlock;
    private final int totalBlocks;
    private final PrefixIndex<SharedKv> index;
    private final Map<SequenceCache, Held> held = new IdentityHashMap<>();
    /** Blocks charged to sequences alone (not in the index). */
    private int privateBlocks;
    private long queries;
    private long queryTokens;
    private long hitTokens;
    private long evictions;
    private long misses;

    /** What one cache holds: its own blocks, the cached blocks it uses, and the chain of what it computed. */
    private static final class Held {
        int own;
        final List<BlockHash> shared = new ArrayList<>();
        int[] tokens = new int[0];
        int tokenLen;
        BlockHash last = BlockHash.ROOT;
        int named;
    }

    /**
     * A budget of {@code budgetBytes} for {@code engine}'s caches, in blocks of
     * {@code blockTokens} positions costing {@code bytesPerToken} each; no prefix cache.
     */
    public BlockBudget(StageEngine engine, long budgetBytes, int blockTokens, long bytesPerToken) {
        this(engine, budgetBytes, blockTokens, bytesPerToken, false);
    }

    /**
     * As above, with a prefix cache when {@code prefixCache} and the engine can share blocks of
     * {@code blockTokens} positions.
     */
    public BlockBudget(StageEngine engine, long budgetBytes, int blockTokens, long bytesPerToken, boolean prefixCache) {
        if (blockTokens < 1) {
            throw new IllegalArgumentException("blockTokens=" + blockTokens + ", expected >= 1");
        }
        this.engine = engine;
        this.blockTokens = blockTokens;
        this.bytesPerBlock = Math.max(1, bytesPerToken * blockTokens);
        this.totalBlocks = (int) Math.min(Integer.MAX_VALUE, budgetBytes / bytesPerBlock);
        this.index = prefixCache && engine.canShare(blockTokens) ? new PrefixIndex<>() : null;
    }

    /** Whether the prefix cache is on. */
    public boolean prefixCache() {
        return index != null;
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
        return totalBlocks - used() + (index == null ? 0 : index.idle());
    }

    /** Blocks charged: every sequence's own plus every cached block (in use or idle). */
    private int used() {
        return privateBlocks + (index == null ? 0 : index.size());
    }

    @Override
    public SequenceCache newCache() {
        SequenceCache c = engine.newCache();
        held.put(c, new Held());
        return c;
    }

    @Override
    public int blocksFor(SequenceCache cache, int rows) {
        Held h = held.get(cache);
        int have = h == null ? 0 : h.own + h.shared.size();
        return Math.max(0, blocksFor(cache.length() + rows) - have);
    }

    @Override
    public boolean tryReserve(SequenceCache cache, int rows) {
        Held h = held.get(cache);
        if (h == null) {
            throw new IllegalStateException("cache " + cache + " was released or not made by this budget");
        }
        int need = Math.max(0, blocksFor(cache.length() + rows) - h.own - h.shared.size());
        if (need > freeBlocks()) {
            return false;
        }
        while (need > totalBlocks - used()) {
            index.evictOldest().release();
            evictions++;
        }
        privateBlocks += need;
        h.own += need;
        return true;
    }

    @Override
    public void release(SequenceCache cache) {
        Held h = held.remove(cache);
        if (h != null) {
            privateBlocks -= h.own;
            // last to first: a prompt's first blocks stay the most recently used
            for (int i = h.shared.size() - 1; i >= 0; i--) {
                index.release(h.shared.get(i));
            }
            cache.free();
        }
    }

    @Override
    public int cachedPrefix(int[] tokens, int len) {
        if (index == null) {
            return 0;
        }
        int maxBlocks = (len - 1) / blockTokens;
        int hit = index.match(PrefixChain.of(tokens, len, blockTokens, maxBlocks), maxBlocks) * blockTokens;
        queries++;
        queryTokens += len;
        hitTokens += hit;
        return hit;
    }

    @Override
    public boolean attachPrefix(SequenceCache cache, int[] tokens, int n) {
        Held h = held.get(cache);
        if (n == 0) {
            return true;
        }
        if (index == null || h == null || cache.length() != 0 || n % blockTokens != 0 || n > tokens.length) {
            return false;
        }
        BlockHash[] chain = PrefixChain.of(tokens, n, blockTokens);
        List<SharedKv> blocks = index.acquire(chain, chain.length);
        if (blocks == null) {
            return false;
        }
        engine.attach(cache, blocks, n);
        h.shared.addAll(Arrays.asList(chain));
        h.tokens = Arrays.copyOf(tokens, Math.max(n, 16));
        h.tokenLen = n;
        h.last = chain[chain.length - 1];
        h.named = chain.length;
        return true;
    }

    @Override
    public void wrote(SequenceCache cache, int[] tokens, int off, int n) {
        Held h = held.get(cache);
        if (index == null || h == null) {
            return;
        }
        if (h.tokenLen + n > h.tokens.length) {
            h.tokens = Arrays.copyOf(h.tokens, Math.max(h.tokenLen + n, 2 * h.tokens.length));
        }
        System.arraycopy(tokens, off, h.tokens, h.tokenLen, n);
        h.tokenLen += n;
        while ((h.named + 1) * blockTokens <= Math.min(h.tokenLen, cache.length())) {
            int first = h.named * blockTokens;
            h.last = PrefixChain.next(h.last, h.tokens, first, blockTokens);
            h.named++;
            // a block computed twice at once (two sequences, one prompt) stays the second one's own
            if (!index.contains(h.last) && h.own > 0) {
                index.publish(h.last, engine.share(cache, first, blockTokens));
                h.own--;
                privateBlocks--;
                h.shared.add(h.last);
            }
        }
    }

    @Override
    public PrefixStats prefixStats() {
        return index == null ? PrefixStats.NONE : new PrefixStats(queries, queryTokens, hitTokens, index.size(),
                index.idle(), evictions, misses);
    }

    @Override
    public void prefixMissed() {
        misses++;
    }

    /** Evicts every idle cached block (their memory returns to the pool); blocks in use stay. */
    public int evictIdle() {
        if (index == null) {
            return 0;
        }
        List<SharedKv> gone = index.evictAll();
        for (SharedKv b : gone) {
            b.release();
        }
        evictions += gone.size();
        return gone.size();
    }
}
