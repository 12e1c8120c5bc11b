package catena.worker.engine;

/** The KV cache of one sequence on one stage. Owned by the stage actor, which {@link #free()}s it. */
public interface SequenceCache {
    /** Tokens held (the position of the next token). */
    int length();

    /** Bytes held (what cache accounting counts). */
    long bytes();

    /**
     * Gives the cache's memory back to the stage's pool; it must not be used by later passes. A
     * pass already planned with it may still run (the engine keeps its pages until then).
     */
    void free();
}
