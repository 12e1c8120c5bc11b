package catena.worker.engine;

import java.io.IOException;
import java.nio.file.Path;

/** Opens a stage's layers; the default maps the GGUF with the engine, tests pass their own. */
@FunctionalInterface
public interface StageEngineFactory {
    StageEngineFactory MODEL = ModelStageEngine::load;

    /**
     * The engine's model slices with KV caches of {@code kvType} in pools of {@code kvMemoryBytes}
     * each ({@code KvMemory.AUTO}: from the memory limit, split among {@code stagesInProcess}).
     */
    static StageEngineFactory model(catena.shard.model.KvType kvType, long kvMemoryBytes, int stagesInProcess) {
        return (path, keepF32, from, to) -> ModelStageEngine.load(path, keepF32, from, to, kvType, kvMemoryBytes,
                stagesInProcess);
    }

    StageEngine open(Path model, boolean keepF32, int fromLayer, int toLayerExclusive) throws IOException;
}
