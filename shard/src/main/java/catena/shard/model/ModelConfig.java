package catena.shard.model;

/** Hyper-parameters read from the GGUF metadata (never from tables of known models). */
public final class ModelConfig {
    public int layerCount() {
        throw new UnsupportedOperationException();
    }
}
