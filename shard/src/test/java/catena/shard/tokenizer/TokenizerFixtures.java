package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.fail;

import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufMetadata;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shared fixtures (system property {@code catena.fixtures}); a missing file fails the test, naming where it looked. */
final class TokenizerFixtures {
    private static final Map<String, GgufMetadata> METADATA = new ConcurrentHashMap<>();
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private TokenizerFixtures() {
    }

    static Path root() {
        String dir = System.getProperty("catena.fixtures");
        if (dir == null) {
            fail("system property catena.fixtures is not set (surefire sets it to <project>/../shared/fixtures)");
        }
        return Path.of(dir);
    }

    static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.isRegularFile(p)) {
            fail("fixture missing: looked for " + p.toAbsolutePath());
        }
        return p;
    }

    /** A model file by name, looked up in tiny/ and stories/. */
    static Path model(String name) {
        for (String dir : List.of("tiny", "stories")) {
            Path p = root().resolve(dir).resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return file("tiny/" + name);
    }

    static GgufMetadata metadata(String modelName) {
        return METADATA.computeIfAbsent(modelName, n -> {
            try (GgufFile f = GgufFile.open(model(n))) {
                return f.metadata();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static Tokenizer tokenizer(String modelName) {
        return TOKENIZERS.computeIfAbsent(modelName, n -> Tokenizer.fromGguf(metadata(n)));
    }

    static JsonNode json(String relative) {
        try {
            return new ObjectMapper().readTree(file(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
