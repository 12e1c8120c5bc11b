package catena.gateway.model;

import catena.shard.gguf.GgufFile;
import catena.shard.tokenizer.ChatTemplate;
import catena.shard.tokenizer.Tokenizer;
import catena.worker.engine.ModelFacts;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The model the gateway serves, as far as the gateway needs it: facts for validation, the
 * tokenizer, the chat template (null when the model has none) and the end-of-generation ids.
 * Immutable and thread-safe. The gateway never loads weights.
 */
public record ServedModel(Path path, ModelFacts facts, Tokenizer tokenizer, ChatTemplate chatTemplate, int[] endIds) {

    /** Reads the GGUF's metadata (not its weights). */
    public static ServedModel open(Path path) throws IOException {
        try (GgufFile file = GgufFile.open(path)) {
            var metadata = file.metadata();
            ChatTemplate template;
            try {
                template = ChatTemplate.forModel(metadata);
            } catch (IllegalArgumentException e) {
                template = null;
            }
            return of(path, ModelFacts.of(metadata), Tokenizer.fromGguf(metadata), template);
        }
    }

    public static ServedModel of(Path path, ModelFacts facts, Tokenizer tokenizer, ChatTemplate template) {
        int[] ends = java.util.stream.IntStream.range(0, tokenizer.vocabSize())
                .filter(tokenizer::isEndOfGeneration).toArray();
        return new ServedModel(path, facts, tokenizer, template, ends);
    }

    /** The file name, as GetModelInfo reports it. */
    public String name() {
        return path.getFileName().toString();
    }

    @Override
    public String toString() {
        return "ServedModel[" + path + ", " + facts + "]";
    }
}
