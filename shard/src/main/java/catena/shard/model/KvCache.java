package catena.shard.model;

/**
 * Keys and values of one sequence for the layers of one model slice. Sliding-window layers keep
 * only their window (a ring); global layers grow in chunks. Memory is on the heap and freed by
 * dropping the reference; {@link #bytes()} is what cache accounting counts.
 */
public final class KvCache {
    /** Tokens seen so far (the position of the next token). */
    public int length() {
        throw new UnsupportedOperationException();
    }

    /** Bytes currently held. */
    public long bytes() {
        throw new UnsupportedOperationException();
    }
}
