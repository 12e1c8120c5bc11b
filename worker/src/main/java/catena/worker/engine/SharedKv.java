package catena.worker.engine;

/**
 * A block of a stage's KV cache (the keys and values of some consecutive positions, every layer
 * of the stage) shared read-only by the prefix cache and the sequences that attach it: its memory
 * stays until every holder has let go. Made by {@link StageEngine#share}; the prefix cache holds
 * one and releases it when it evicts the block.
 */
public interface SharedKv {
    /**
     * Lets go of the prefix cache's hold. Any thread; the memory returns to the stage's pool once
     * no cache holds it any more, never under a pass that still reads it.
     */
    void release();
}
