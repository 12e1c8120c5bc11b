package catena.it.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fixtures from ../shared/fixtures (system property catena.fixtures); a missing one fails the test. */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path file(String relative) {
        Path f = Path.of(System.getProperty("catena.fixtures", "../shared/fixtures")).resolve(relative);
        if (!Files.isRegularFile(f)) {
            throw new AssertionError("fixture missing: looked for " + f.toAbsolutePath()
                    + " (set -Dcatena.fixtures=DIR; fixtures live in ../shared/fixtures)");
        }
        return f;
    }

    /** The llama.cpp reference (f32 KV cache) of {@code model} for prompt {@code promptName}, from refs/index.json. */
    public static JsonNode reference(String model, String promptName) throws IOException {
        for (JsonNode e : new ObjectMapper().readTree(file("refs/index.json").toFile())) {
            if (e.get("model").asText().equals(model) && e.get("prompt_name").asText().equals(promptName)
                    && e.get("kv_cache").asText().equals("f32")) {
                return e;
            }
        }
        throw new AssertionError("refs/index.json has no entry for " + model + " / " + promptName);
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
