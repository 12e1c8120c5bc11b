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
    private int size;
    private int rows;

    public void clear() {
        size = 0;
        rows = 0;
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
