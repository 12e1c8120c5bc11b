package catena.shard.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The KV pages of one model slice (a stage), off the Java heap. A page holds
 * {@link #PAGE_TOKENS} positions of one layer's keys or values in the slice's {@link KvType}; it
 * is named by an int id, and its bytes are {@link #segment(int)}. Pages are cut from segments of
 * an {@link Arena} the pool owns ({@link #close()} releases them all): segments of
 * {@value #CHUNK_PAGES} pages of one size, allocated when no free page of that size is left, so
 * the memory held grows with use up to the capacity and is reused, never given back to the
 * system before close.
 *
 * <p>Capacity: with a budget of B bytes the pool holds at most {@code B / (bytesPerToken() *
 * PAGE_TOKENS)} blocks of 16 positions of every layer, and so for each page size exactly that many
 * blocks' pages of that size ({@link #capacityPages()}); a {@code BlockBudget} charging whole
 * 16-position blocks against the same B therefore never admits more than the pool holds.
 * {@link #UNBOUNDED} (the CLI) allocates on demand without a limit.
 *
 * <p>Each page has a reference count: {@link #take} hands it out at 1, {@link #retain} adds a
 * holder (a page shared by several caches), {@link #release} drops one and frees the page at 0.
 * A freed cache is only noted ({@link #retire}, any thread); its pages are released at the start
 * of the slice's next pass ({@link #settle}), because a pass that reads and writes them may still
 * be running. Passes of one slice are serialized, so at the start of one no earlier pass runs.
 * Everything but {@link #retire} and the counters runs on the pass thread.
 */
public final class KvPool implements AutoCloseable {
    /** Token positions per page. */
    public static final int PAGE_TOKENS = 16;
    /** Pool without a byte limit. */
    public static final long UNBOUNDED = Long.MAX_VALUE;
    /** Pages per allocated segment. */
    static final int CHUNK_PAGES = 64;

    private final KvType type;
    private final long capacityBytes;
    private final long bytesPerToken;
    private final int[] kvDims;
    /** Size classes by kvDim; a class per distinct width among the slice's layers. */
    private final Map<Integer, PageClass> classes = new HashMap<>();
    private final Arena arena = Arena.ofShared();
    private MemorySegment[] pages = new MemorySegment[CHUNK_PAGES];
    private int[] refs = new int[CHUNK_PAGES];
    private PageClass[] classOf = new PageClass[CHUNK_PAGES];
    private int pageCount;
    private final List<KvCache> retired = new ArrayList<>();
    /** Shared blocks let go of since the last pass (the prefix cache evicted them). */
    private final List<KvBlock> retiredBlocks = new ArrayList<>();
    private volatile long usedBytes;
    private volatile long allocatedBytes;
    private volatile int usedPages;

    /** One page size: its free pages and how many it may still allocate. */
    private static final class PageClass {
        final int kvDim;
        final long pageBytes;
        final long capacity;
        long allocated;
        int[] free = new int[CHUNK_PAGES];
        int freeCount;

        PageClass(int kvDim, long pageBytes, long capacity) {
            this.kvDim = kvDim;
            this.pageBytes = pageBytes;
            this.capacity = capacity;
        }
    }

    /**
     * A pool of {@code type} pages for layers of widths {@code kvDims} (one entry per layer that
     * holds a cache), holding at most {@code capacityBytes} ({@link #UNBOUNDED} for no limit).
     */
    public KvPool(KvType type, int[] kvDims, long capacityBytes) {
        if (capacityBytes < 1) {
            throw new IllegalArgumentException("--kv-memory=" + capacityBytes + ", expected a size > 0");
        }
        this.type = type;
        this.capacityBytes = capacityBytes;
        this.kvDims = kvDims.clone();
        Map<Integer, Integer> layersByDim = new HashMap<>();
        long perToken = 0;
        for (int d : kvDims) {
            perToken += 2 * type.rowBytes(d);
            layersByDim.merge(d, 1, Integer::sum);
        }
        this.bytesPerToken = perToken;
        long blocks = perToken == 0 || capacityBytes == UNBOUNDED ? Long.MAX_VALUE
                : capacityBytes / (perToken * PAGE_TOKENS);
        for (Map.Entry<Integer, Integer> e : layersByDim.entrySet()) {
            long cap = blocks == Long.MAX_VALUE ? Long.MAX_VALUE : blocks * 2 * e.getValue();
            classes.put(e.getKey(), new PageClass(e.getKey(), type.pageBytes(e.getKey()), cap));
        }
    }

    public KvType type() {
        return type;
    }

    /** KV bytes one position takes in every layer of the slice (keys and values). */
    public long bytesPerToken() {
        return bytesPerToken;
    }

    /** What one position would cost in these layers stored as {@code other} (for comparisons). */
    public long bytesPerToken(KvType other) {
        long b = 0;
        for (int d : kvDims) {
            b += 2 * other.rowBytes(d);
        }
        return b;
    }

    /** The byte budget, or {@link #UNBOUNDED}. */
    public long capacityBytes() {
        return capacityBytes;
    }

    /** Whole 16-position blocks of every layer the budget holds ({@code Long.MAX_VALUE} unbounded). */
    public long capacityBlocks() {
        return capacityBytes == UNBOUNDED || bytesPerToken == 0 ? Long.MAX_VALUE
                : capacityBytes / (bytesPerToken * PAGE_TOKENS);
    }

    /** Pages handed out (reference count above 0). Any thread. */
    public int usedPages() {
        return usedPages;
    }

    /** Bytes of the pages handed out. Any thread. */
    public long usedBytes() {
        return usedBytes;
    }

    /** Bytes of the pages allocated so far (used or free). Any thread. */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** Bytes of allocated pages that are free for reuse. Any thread. */
    public long freeBytes() {
        return allocatedBytes - usedBytes;
    }

    /** Page ids handed out so far (ids are {@code [0, pageCount())}). */
    public int pageCount() {
        return pageCount;
    }

    /** Pages of width {@code kvDim} the budget allows ({@code Long.MAX_VALUE} unbounded). */
    public long capacityPages(int kvDim) {
        return pageClass(kvDim).capacity;
    }

    /** A free page for rows of {@code kvDim} values, with reference count 1. Pass thread. */
    public int take(int kvDim) {
        PageClass c = pageClass(kvDim);
        if (c.freeCount == 0) {
            grow(c);
        }
        int id = c.free[--c.freeCount];
        refs[id] = 1;
        usedPages++;
        usedBytes += c.pageBytes;
        return id;
    }

    /** Adds a holder to a page in use. Pass thread. */
    public void retain(int page) {
        if (refs[page] < 1) {
            throw new IllegalStateException("page=" + page + " is free, expected a page in use to retain");
        }
        refs[page]++;
    }

    /** Drops a holder; the last one frees the page for reuse. Pass thread. */
    public void release(int page) {
        if (refs[page] < 1) {
            throw new IllegalStateException("page=" + page + " is already free, expected a page in use");
        }
        if (--refs[page] == 0) {
            PageClass c = classOf[page];
            if (c.freeCount == c.free.length) {
                c.free = Arrays.copyOf(c.free, 2 * c.free.length);
            }
            c.free[c.freeCount++] = page;
            usedPages--;
            usedBytes -= c.pageBytes;
        }
    }

    /** Holders of a page (0 = free). */
    public int refCount(int page) {
        return refs[page];
    }

    /** The bytes of a page (its type's layout, {@link KvType}). */
    public MemorySegment segment(int page) {
        return pages[page];
    }

    /** The row width of a page. */
    public int kvDim(int page) {
        return classOf[page].kvDim;
    }

    private PageClass pageClass(int kvDim) {
        PageClass c = classes.get(kvDim);
        if (c == null) {
            throw new IllegalArgumentException("kvDim=" + kvDim + ", expected one of the slice's layer widths "
                    + classes.keySet());
        }
        return c;
    }

    private void grow(PageClass c) {
        long n = Math.min(CHUNK_PAGES, c.capacity - c.allocated);
        if (n <= 0) {
            throw new KvPoolExhaustedException("KV pool exhausted: pages of kvDim=" + c.kvDim + " in use="
                    + c.allocated + ", expected at most " + c.capacity + " (--kv-memory=" + capacityBytes
                    + " bytes, " + type.flag() + ")");
        }
        MemorySegment chunk = arena.allocate(n * c.pageBytes, 64);
        if (pageCount + n > pages.length) {
            int len = Math.max(pages.length * 2, pageCount + (int) n);
            pages = Arrays.copyOf(pages, len);
            refs = Arrays.copyOf(refs, len);
            classOf = Arrays.copyOf(classOf, len);
        }
        if (c.free.length < n) {
            c.free = Arrays.copyOf(c.free, (int) n);
        }
        // ids pushed so that take() hands them out in ascending order
        for (int i = (int) n - 1; i >= 0; i--) {
            int id = pageCount + i;
            pages[id] = chunk.asSlice(i * c.pageBytes, c.pageBytes);
            classOf[id] = c;
            c.free[c.freeCount++] = id;
        }
        pageCount += (int) n;
        c.allocated += n;
        allocatedBytes += n * c.pageBytes;
    }

    /** Notes a freed cache; its pages are released at the next {@link #settle}. Any thread. */
    synchronized void retire(KvCache cache) {
        retired.add(cache);
    }

    /** Notes a released shared block; its hold on its pages ends at the next {@link #settle}. Any thread. */
    synchronized void retire(KvBlock block) {
        retiredBlocks.add(block);
    }

    /**
     * Releases the pages of the caches freed since the last pass, before this pass takes any; a
     * freed cache that is still in {@code batch} (its pass was planned before the free) keeps its
     * pages until a later pass. Released shared blocks let go of their pages (a cache in the batch
     * holds its own reference to any it reads).
     */
    void settle(Batch batch) {
        List<KvCache> now;
        List<KvBlock> blocks;
        synchronized (this) {
            if (retired.isEmpty() && retiredBlocks.isEmpty()) {
                return;
            }
            now = new ArrayList<>(retired);
            retired.clear();
            blocks = new ArrayList<>(retiredBlocks);
            retiredBlocks.clear();
        }
        for (KvBlock b : blocks) {
            b.releasePages();
        }
        for (KvCache c : now) {
            if (inBatch(batch, c)) {
                retire(c);
            } else {
                c.releaseAllPages();
            }
        }
    }

    /** Releases the pages of every cache freed so far, with no pass running (tests, shutdown). */
    public void settleIdle() {
        settle(new Batch());
    }

    private static boolean inBatch(Batch batch, KvCache c) {
        for (int i = 0; i < batch.size(); i++) {
            if (batch.cache(i) == c) {
                return true;
            }
        }
        return false;
    }

    /** Releases every page's memory; no cache of this pool may be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
