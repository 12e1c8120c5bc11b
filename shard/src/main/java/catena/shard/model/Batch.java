package catena.shard.model;

/**
 * The rows one forward pass runs: for each sequence in the batch, {@code count} consecutive
 * tokens that continue its KV cache (positions {@code cache.length() .. +count}). Activations of
 * all rows are one row-major float array [rows][dim], sequence after sequence. Reusable: call
 * {@link #clear()} and add again; no allocation once grown.
 */
public final class Batch {
    private KvCache[] caches = new KvCache[8];
    private int[] counts = new int[8];
    private int[] tokens = new int[64];
    private boolean hasTokens = true;
    private int size;
    private int rows;

    public void clear() {
        size = 0;
        rows = 0;
        hasTokens = true;
    }

    /**
     * Adds {@code count} rows of one sequence together with their token ids. Stages after the first
     * need the ids only for models with per-layer token inputs (Gemma 4 E2B/E4B); passing them
     * always keeps a pipeline independent of the architecture.
     */
    public Batch add(KvCache cache, int[] ids, int off, int count) {
        int start = rows;
        boolean had = hasTokens;
        add(cache, count);
        hasTokens = had;
        if (tokens.length < rows) {
            tokens = java.util.Arrays.copyOf(tokens, Math.max(rows, tokens.length * 2));
        }
        System.arraycopy(ids, off, tokens, start, count);
        return this;
    }

    /** Whether every row of the batch came with its token id. */
    public boolean hasTokens() {
        return hasTokens && size > 0;
    }

    /** Token id of row {@code row} (only when {@link #hasTokens()}). */
    public int token(int row) {
        return tokens[row];
    }

    /** Adds {@code count} rows of one sequence; a sequence may appear only once per batch. */
    public Batch add(KvCache cache, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        if (size == caches.length) {
            caches = java.util.Arrays.copyOf(caches, size * 2);
            counts = java.util.Arrays.copyOf(counts, size * 2);
        }
        hasTokens = false;
        caches[size] = cache;
        counts[size] = count;
        size++;
        rows += count;
        return this;
    }

    /** Number of sequences. */
    public int size() {
        return size;
    }

    /** Total rows over all sequences. */
    public int rows() {
        return rows;
    }

    public KvCache cache(int i) {
        return caches[i];
    }

    public int count(int i) {
        return counts[i];
    }
}
