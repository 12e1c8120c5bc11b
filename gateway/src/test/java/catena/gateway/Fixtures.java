package catena.gateway;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test fixtures from ../shared/fixtures (system property catena.fixtures); a missing one fails the test. */
public final class Fixtures {
    private Fixtures() {
    }

    /** The fixture file at {@code relative} (e.g. "tiny/tiny-llama-q8_0.gguf"). */
    public static Path file(String relative) {
        Path f = Path.of(System.getProperty("catena.fixtures", "../shared/fixtures")).resolve(relative);
        if (!Files.isRegularFile(f)) {
            fail("fixture missing: looked for " + f.toAbsolutePath()
                    + " (set -Dcatena.fixtures=DIR; fixtures live in ../shared/fixtures)");
        }
        return f;
    }

    /** The llama.cpp reference of {@code model} with f32 KV cache and prompt {@code promptName} (refs/index.json). */
    public static JsonNode reference(String model, String promptName) throws IOException {
        JsonNode index = new ObjectMapper().readTree(file("refs/index.json").toFile());
        for (JsonNode e : index) {
            if (e.get("model").asText().equals(model) && e.get("prompt_name").asText().equals(promptName)
                    && e.get("kv_cache").asText().equals("f32")) {
                return e;
            }
        }
        throw new AssertionError("refs/index.json has no entry for model " + model + ", prompt " + promptName);
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
