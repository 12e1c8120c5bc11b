package catena.shard.model;

import java.util.Arrays;

/**
 * Keys and values of one sequence for the layers of one model slice, in f32, in pages of
 * {@link KvPages#PAGE_TOKENS} positions taken from the slice's {@link KvPages}. A global layer
 * keeps every position; a sliding-window layer gives back the pages that lie wholly before the
 * window of the next pass's first row (a batched prefill writes all its rows before any of them
 * attends, so a pass keeps its window plus its own rows). A Gemma 4 KV-shared layer holds
 * nothing: its reads go to its donor layer's pages (same geometry and window), which must be in
 * the same slice. Growing never copies keys or values, so a cache holds what its positions need,
 * to a page; {@link #free()} gives everything back; {@link #bytes()} is what accounting counts.
 */
public final class KvCache {
    private static final int SHIFT = Integer.numberOfTrailingZeros(KvPages.PAGE_TOKENS);
    private static final int MASK = KvPages.PAGE_TOKENS - 1;

    private final KvPages pages;
    private final LayerSpec[] specs;
    private final int fromLayer;
    private final int maxPositions;
    /** Per owned layer, page p holds positions [p*PAGE_TOKENS, (p+1)*PAGE_TOKENS); null = not taken or given back. */
    private final float[][][] keys;
    private final float[][][] values;
    /** Per owned layer, pages before this index have been given back (sliding layers). */
    private final int[] firstHeld;
    /** Index (into the arrays above) of the layer whose K/V each layer reads: itself or its donor. */
    private final int[] source;
    private int length;
    /** Written on the pass thread, read by accounting on any thread. */
    private volatile long bytes;
    private volatile boolean freed;

    KvCache(ModelConfig config, int fromLayer, int toLayer, KvPages pages) {
        this.pages = pages;
        this.fromLayer = fromLayer;
        this.maxPositions = config.contextLength();
        int n = toLayer - fromLayer;
        this.specs = new LayerSpec[n];
        this.keys = new float[n][][];
        this.values = new float[n][][];
        this.firstHeld = new int[n];
        this.source = new int[n];
        for (int i = 0; i < n; i++) {
            specs[i] = config.layer(fromLayer + i);
            keys[i] = new float[0][];
            values[i] = new float[0][];
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

    /** Bytes currently held. */
    public long bytes() {
        return bytes;
    }

    /**
     * Gives every page back to the slice's pool; the cache must not be used again. Any thread:
     * the pages are taken back at the start of the slice's next pass, so a pass running now
     * still finds them.
     */
    public synchronized void free() {
        if (!freed) {
            freed = true;
            pages.retire(this);
        }
    }

    /** Pass thread, from {@link KvPages#settle()}. */
    void giveAllPages() {
        for (int i = 0; i < keys.length; i++) {
            for (int p = 0; p < keys[i].length; p++) {
                give(i, p);
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
                    give(i, p);
                }
                firstHeld[i] = Math.max(firstHeld[i], keepFrom);
            }
            int last = (length + count - 1) >>> SHIFT;
            if (last >= keys[i].length) {
                int n = Math.max(last + 1, keys[i].length * 2);
                keys[i] = Arrays.copyOf(keys[i], n);
                values[i] = Arrays.copyOf(values[i], n);
            }
            int pageFloats = KvPages.PAGE_TOKENS * s.kvDim();
            for (int p = Math.max(firstHeld[i], length >>> SHIFT); p <= last; p++) {
                if (keys[i][p] == null) {
                    keys[i][p] = pages.take(pageFloats);
                    values[i][p] = pages.take(pageFloats);
                    bytes += 8L * pageFloats;
                }
            }
        }
    }

    private void give(int i, int p) {
        if (keys[i][p] != null) {
            bytes -= 4L * (keys[i][p].length + values[i][p].length);
            pages.give(keys[i][p]);
            pages.give(values[i][p]);
            keys[i][p] = null;
            values[i][p] = null;
        }
    }

    /** The page of layer {@code layer}'s keys holding position {@code pos}. */
    float[] keyPage(int layer, int pos) {
        return keys[source[layer - fromLayer]][pos >>> SHIFT];
    }

    /** The page of layer {@code layer}'s values holding position {@code pos}. */
    float[] valuePage(int layer, int pos) {
        return values[source[layer - fromLayer]][pos >>> SHIFT];
    }

    /** Whether position {@code pos} is the first of its page. */
    static boolean pageStart(int pos) {
        return (pos & MASK) == 0;
    }

    /** Offset of position {@code pos} in its page of layer {@code layer}. */
    int pageOffset(int layer, int pos) {
        return (pos & MASK) * specs[source[layer - fromLayer]].kvDim();
    }

    void advance(int count) {
        length += count;
    }
}
