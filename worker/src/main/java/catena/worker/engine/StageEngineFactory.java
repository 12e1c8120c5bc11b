package catena.worker.engine;

import java.io.IOException;
import java.nio.file.Path;

/** Opens a stage's layers; the default maps the GGUF with the engine, tests pass their own. */
@FunctionalInterface
public interface StageEngineFactory {
    StageEngineFactory MODEL = ModelStageEngine::load;

    StageEngine open(Path model, boolean keepF32, int fromLayer, int toLayerExclusive) throws IOException;
}
