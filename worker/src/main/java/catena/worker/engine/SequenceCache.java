package catena.worker.engine;

/** The KV cache of one sequence on one stage. Owned by the stage actor; dropped to free it. */
public interface SequenceCache {
    /** Tokens held (the position of the next token). */
    int length();

    /** Bytes held (what cache accounting counts). */
    long bytes();
}
