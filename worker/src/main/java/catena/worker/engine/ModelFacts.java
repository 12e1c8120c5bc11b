package catena.worker.engine;

import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufMetadata;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What the pipeline needs to know about a model without loading its weights, read from the GGUF
 * metadata: architecture, layer count, hidden width, vocabulary size and context length.
 */
public record ModelFacts(String architecture, int layerCount, int dim, int vocabSize, int contextLength) {

    /** Reads the facts of the GGUF at {@code path}. */
    public static ModelFacts read(Path path) throws IOException {
        try (GgufFile file = GgufFile.open(path)) {
            return of(file.metadata());
        }
    }

    public static ModelFacts of(GgufMetadata m) {
        String arch = m.getString("general.architecture");
        return new ModelFacts(arch,
                m.getInt(arch + ".block_count", 1),
                m.getInt(arch + ".embedding_length", 1),
                m.getArray("tokenizer.ggml.tokens").length(),
                m.getInt(arch + ".context_length", 1));
    }
}
