package catena.shard.model;

/**
 * Whole pages of one sequence's KV cache, every layer of the slice, shared read-only: positions
 * [firstPage * PAGE_TOKENS, (firstPage + pages) * PAGE_TOKENS), all written, which no cache ever
 * writes again (a cache writes only at and after its length, and a shared page lies before it).
 * Made by {@link KvCache#share}, which adds a holder to each page; {@link KvCache#attach} gives
 * another cache those pages (another holder each); {@link #release()} drops this block's hold.
 * The pool frees a page when its last holder lets go, so a page lives as long as the block or a
 * cache holds it, whichever is longer.
 */
public final class KvBlock {
    private final KvPool pool;
    final int firstPage;
    final int pages;
    /** Per layer of the slice (as indexed by its cache): page ids of keys / values, {@link KvCache#NO_PAGE} where none. */
    final int[][] keys;
    final int[][] values;
    private boolean released;

    KvBlock(KvPool pool, int firstPage, int pages, int[][] keys, int[][] values) {
        this.pool = pool;
        this.firstPage = firstPage;
        this.pages = pages;
        this.keys = keys;
        this.values = values;
    }

    /** Token positions the block covers. */
    public int positions() {
        return pages * KvPool.PAGE_TOKENS;
    }

    /**
     * Drops the block's hold on its pages. Any thread, once: the pages are released at the start
     * of the slice's next pass (like a freed cache's), never under a pass that reads them.
     */
    public synchronized void release() {
        if (released) {
            throw new IllegalStateException("KV block at page " + firstPage + " released twice");
        }
        released = true;
        pool.retire(this);
    }

    /** Pass thread (or no pass running), from {@link KvPool#settle}. */
    void releasePages() {
        for (int i = 0; i < keys.length; i++) {
            for (int p = 0; p < keys[i].length; p++) {
                if (keys[i][p] != KvCache.NO_PAGE) {
                    pool.release(keys[i][p]);
                    pool.release(values[i][p]);
                }
            }
        }
    }
}
