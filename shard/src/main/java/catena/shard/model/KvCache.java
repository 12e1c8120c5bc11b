package catena.shard.model;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Keys and values of one sequence for the layers of one model slice, in pages of
 * {@link KvPool#PAGE_TOKENS} positions taken from the slice's {@link KvPool} (off the heap, in
 * the pool's {@link KvType}). A global layer keeps every position; a sliding-window layer
 * releases the pages that lie wholly before the window of the next pass's first row (a batched
 * prefill writes all its rows before any of them attends, so a pass keeps its window plus its own
 * rows). A Gemma 4 KV-shared layer holds nothing: its reads go to its donor layer's pages (same
 * geometry and window), which must be in the same slice. Growing never copies keys or values, so
 * a cache holds what its positions need, to a page; {@link #free()} gives everything back;
 * {@link #bytes()} is what accounting counts.
 *
 * <p>Pages are named by pool ids ({@link #NO_PAGE} where none is held); a cache holds one
 * reference to each of its pages, so a page may also be held by others ({@link KvPool#retain}).
 */
public final class KvCache {
    /** No page held at this index. */
    static final int NO_PAGE = -1;
    private static final int SHIFT = Integer.numberOfTrailingZeros(KvPool.PAGE_TOKENS);
    private static final int MASK = KvPool.PAGE_TOKENS - 1;

    private final KvPool pool;
    private final LayerSpec[] specs;
    private final int fromLayer;
    private final int maxPositions;
    /** Per owned layer, page p holds positions [p*PAGE_TOKENS, (p+1)*PAGE_TOKENS); NO_PAGE = not taken or released. */
    private final int[][] keys;
    private final int[][] values;
    /** Per owned layer, pages before this index have been released (sliding layers). */
    private final int[] firstHeld;
    /** Index (into the arrays above) of the layer whose K/V each layer reads: itself or its donor. */
    private final int[] source;
    private int length;
    /** Written on the pass thread, read by accounting on any thread. */
    private volatile long bytes;
    private volatile boolean freed;

    KvCache(ModelConfig config, int fromLayer, int toLayer, KvPool pool) {
        this.pool = pool;
        this.fromLayer = fromLayer;
        this.maxPositions = config.contextLength();
        int n = toLayer - fromLayer;
        this.specs = new LayerSpec[n];
        this.keys = new int[n][];
        this.values = new int[n][];
        this.firstHeld = new int[n];
        this.source = new int[n];
        for (int i = 0; i < n; i++) {
            specs[i] = config.layer(fromLayer + i);
            keys[i] = new int[0];
            values[i] = new int[0];
            source[i] = specs[i].kvSource() - fromLayer;
            if (source[i] < 0) {
                throw new IllegalArgumentException("layer " + (fromLayer + i) + " reads the KV cache of layer "
                        + specs[i].kvSource() + ", which is outside the slice [" + fromLayer + ", " + toLayer + ")");
            }
        }
    }

    /** Tokens seen so far (the position of the next token). */
    public int length() {
        return length;
    }

    /** The longest sequence this cache holds (the model's context length). */
    public int maxPositions() {
        return maxPositions;
    }

    /** Bytes of the pages currently held. */
    public long bytes() {
        return bytes;
    }

    /** The storage type of this cache's pages. */
    public KvType type() {
        return pool.type();
    }

    /**
     * Gives every page back to the slice's pool; the cache must not be used again. Any thread:
     * the pages are released at the start of the slice's next pass, so a pass running now
     * still finds them.
     */
    public synchronized void free() {
        if (!freed) {
            freed = true;
            pool.retire(this);
        }
    }

    /** Pass thread, from {@link KvPool#settle}. */
    void releaseAllPages() {
        for (int i = 0; i < keys.length; i++) {
            for (int p = 0; p < keys[i].length; p++) {
                release(i, p);
            }
        }
    }

    /** Makes room for positions {@code length .. length+count} in every layer. Pass thread. */
    void reserve(int count) {
        // a cache freed after its pass was planned still runs that pass; its pages stay until then
        if (length + count > maxPositions) {
            throw new IllegalArgumentException("sequence of " + (length + count)
                    + " tokens exceeds the model's context length " + maxPositions);
        }
        for (int i = 0; i < specs.length; i++) {
            LayerSpec s = specs[i];
            if (s.kvDim() == 0 || source[i] != i) {
                continue;
            }
            if (s.sliding()) {
                // the pass's first row (position length) attends from length - window + 1 on
                int keepFrom = Math.max(0, length - s.window() + 1) >>> SHIFT;
                for (int p = firstHeld[i]; p < Math.min(keepFrom, keys[i].length); p++) {
                    release(i, p);
                }
                firstHeld[i] = Math.max(firstHeld[i], keepFrom);
            }
            int last = (length + count - 1) >>> SHIFT;
            if (last >= keys[i].length) {
                int n = Math.max(last + 1, keys[i].length * 2);
                int old = keys[i].length;
                keys[i] = Arrays.copyOf(keys[i], n);
                values[i] = Arrays.copyOf(values[i], n);
                Arrays.fill(keys[i], old, n, NO_PAGE);
                Arrays.fill(values[i], old, n, NO_PAGE);
            }
            for (int p = Math.max(firstHeld[i], length >>> SHIFT); p <= last; p++) {
                if (keys[i][p] == NO_PAGE) {
                    keys[i][p] = pool.take(s.kvDim());
                    values[i][p] = pool.take(s.kvDim());
                    bytes += 2 * pool.type().pageBytes(s.kvDim());
                }
            }
        }
    }

    private void release(int i, int p) {
        if (keys[i][p] != NO_PAGE) {
            bytes -= 2 * pool.type().pageBytes(specs[i].kvDim());
            pool.release(keys[i][p]);
            pool.release(values[i][p]);
            keys[i][p] = NO_PAGE;
            values[i][p] = NO_PAGE;
        }
    }

    /**
     * Shares positions [firstPosition, firstPosition + positions) — whole pages, all written (below
     * {@link #length()}) — as a block holding each of their pages of every layer (a sliding layer's
     * page already released is absent from it). No pass may run meanwhile (the caller runs between
     * passes): it adds page holders, as a pass does.
     */
    public KvBlock share(int firstPosition, int positions) {
        if ((firstPosition & MASK) != 0 || (positions & MASK) != 0 || positions <= 0
                || firstPosition + positions > length) {
            throw new IllegalArgumentException("share of positions [" + firstPosition + ", " + (firstPosition + positions)
                    + "): expected whole pages of " + KvPool.PAGE_TOKENS + " below the length " + length);
        }
        int first = firstPosition >>> SHIFT;
        int n = positions >>> SHIFT;
        int[][] k = new int[keys.length][];
        int[][] v = new int[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            k[i] = new int[ownsPages(i) ? n : 0];
            v[i] = new int[k[i].length];
            for (int p = 0; p < k[i].length; p++) {
                int at = first + p;
                int key = at < keys[i].length ? keys[i][at] : NO_PAGE;
                k[i][p] = key;
                v[i][p] = key == NO_PAGE ? NO_PAGE : values[i][at];
                if (key != NO_PAGE) {
                    pool.retain(key);
                    pool.retain(v[i][p]);
                }
            }
        }
        return new KvBlock(pool, first, n, k, v);
    }

    /**
     * Makes {@code blocks}, consecutive from position 0, the start of this empty cache, read-only:
     * every layer holds their pages (a sliding layer only those its next position still attends),
     * and the length becomes their positions. Throws if a page needed is absent from its block.
     * No pass may run meanwhile.
     */
    public void attach(java.util.List<KvBlock> blocks, int positions) {
        if (length != 0 || freed) {
            throw new IllegalStateException("attach to a cache of length " + length + (freed ? ", freed" : "")
                    + ", expected an empty one");
        }
        int total = 0;
        for (KvBlock b : blocks) {
            if (b.firstPage != total) {
                throw new IllegalArgumentException("attach: block at page " + b.firstPage + ", expected page " + total);
            }
            total += b.pages;
        }
        if (total << SHIFT != positions || positions > maxPositions) {
            throw new IllegalArgumentException("attach: blocks of " + (total << SHIFT) + " positions, expected "
                    + positions + " within " + maxPositions);
        }
        int[] keepFrom = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            LayerSpec s = specs[i];
            // what the first pass after them attends: as reserve() would keep at this length
            keepFrom[i] = s.sliding() ? Math.max(0, positions - s.window() + 1) >>> SHIFT : 0;
            for (KvBlock b : blocks) {
                for (int p = Math.max(0, keepFrom[i] - b.firstPage); ownsPages(i) && p < b.pages; p++) {
                    if (b.keys[i][p] == NO_PAGE) {
                        throw new IllegalStateException("attach: layer " + (fromLayer + i) + " page "
                                + (b.firstPage + p) + " is absent from its shared block");
                    }
                }
            }
        }
        for (int i = 0; i < keys.length; i++) {
            if (!ownsPages(i)) {
                continue;
            }
            keys[i] = new int[total];
            values[i] = new int[total];
            Arrays.fill(keys[i], NO_PAGE);
            Arrays.fill(values[i], NO_PAGE);
            long pageBytes = pool.type().pageBytes(specs[i].kvDim());
            for (KvBlock b : blocks) {
                for (int p = Math.max(0, keepFrom[i] - b.firstPage); p < b.pages; p++) {
                    int at = b.firstPage + p;
                    keys[i][at] = b.keys[i][p];
                    values[i][at] = b.values[i][p];
                    pool.retain(keys[i][at]);
                    pool.retain(values[i][at]);
                    bytes += 2 * pageBytes;
                }
            }
            firstHeld[i] = keepFrom[i];
        }
        length = positions;
    }

    /** Whether layer i holds pages of its own (not a KV-shared layer, not without KV). */
    private boolean ownsPages(int i) {
        return specs[i].kvDim() != 0 && source[i] == i;
    }

    /** The page of layer {@code layer}'s keys holding position {@code pos}. */
    MemorySegment keyPage(int layer, int pos) {
        return pool.segment(keys[source[layer - fromLayer]][pos >>> SHIFT]);
    }

    /** The page of layer {@code layer}'s values holding position {@code pos}. */
    MemorySegment valuePage(int layer, int pos) {
        return pool.segment(values[source[layer - fromLayer]][pos >>> SHIFT]);
    }

    /** Whether position {@code pos} is the first of its page. */
    static boolean pageStart(int pos) {
        return (pos & MASK) == 0;
    }

    /** Row of position {@code pos} within its page. */
    static int pageRow(int pos) {
        return pos & MASK;
    }

    /** Writes one position's keys and values ({@code kvDim} floats each) of layer {@code layer}. Pass thread. */
    void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        int i = layer - fromLayer;
        int kvDim = specs[i].kvDim();
        pool.type().store(keyPage(layer, pos), pageRow(pos), kvDim, k, kOff);
        pool.type().store(valuePage(layer, pos), pageRow(pos), kvDim, v, vOff);
    }

    void advance(int count) {
        length += count;
    }
}
