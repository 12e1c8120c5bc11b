package catena.shard;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared llama.cpp fixtures (../shared/fixtures); a missing file fails the test, saying where it looked. */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    public static Path root() {
        String p = System.getProperty("catena.fixtures", "../shared/fixtures");
        return Path.of(p).toAbsolutePath().normalize();
    }

    public static Path file(String relative) {
        Path f = root().resolve(relative);
        if (!Files.isRegularFile(f)) {
            fail("fixture missing: looked for " + f + " (set -Dcatena.fixtures=DIR; fixtures live in ../shared/fixtures)");
        }
        return f;
    }

    public static JsonNode json(String relative) {
        try {
            return JSON.readTree(file(relative).toFile());
        } catch (IOException e) {
            throw new AssertionError("cannot read fixture " + relative, e);
        }
    }

    /** One reference case of refs/index.json. */
    public record RefCase(String model, String weights, String kvCache, String promptName, int[] prompt,
                          int[] generated, String logits, int rows, int vocab) {
        public String arch() {
            String base = Path.of(model).getFileName().toString();
            return base.startsWith("stories") ? "stories" : base.substring(5, base.lastIndexOf('-'));
        }

        /** prompt ++ generated[:-1]: the tokens whose logits rows the reference holds. */
        public int[] teacherTokens() {
            int[] t = new int[prompt.length + generated.length - 1];
            System.arraycopy(prompt, 0, t, 0, prompt.length);
            System.arraycopy(generated, 0, t, prompt.length, generated.length - 1);
            return t;
        }

        public float[] referenceLogits() {
            try {
                ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file("" + logits))).order(ByteOrder.LITTLE_ENDIAN);
                float[] out = new float[rows * vocab];
                b.asFloatBuffer().get(out);
                return out;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public String toString() {
            return Path.of(model).getFileName() + " " + promptName;
        }
    }

    public static List<RefCase> refCases() {
        return refCases("refs/index.json");
    }

    /** The cases of another reference set (refs/index-q4.json, refs/index-kv.json). */
    public static List<RefCase> refCases(String index) {
        List<RefCase> out = new ArrayList<>();
        for (JsonNode c : json(index)) {
            out.add(new RefCase(c.get("model").asText(), c.get("weights").asText(), c.get("kv_cache").asText(),
                    c.get("prompt_name").asText(), ints(c.get("prompt")), ints(c.get("generated")),
                    c.get("logits").asText(), c.get("logits_shape").get(0).asInt(),
                    c.get("logits_shape").get(1).asInt()));
        }
        return out;
    }

    public static int[] ints(JsonNode arr) {
        int[] a = new int[arr.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = arr.get(i).asInt();
        }
        return a;
    }
}
