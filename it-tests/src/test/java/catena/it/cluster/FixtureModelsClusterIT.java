package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture architecture through separate JVMs: a gateway JVM and one worker JVM per stage,
 * greedy tokens of every reference prompt identical to the engine's own loop in this JVM.
 * (Gemma 4 fixtures cannot be cut: their KV-sharing layers must stay with their donors.)
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class FixtureModelsClusterIT {

    static List<Arguments> cases() {
        return List.of(
                Arguments.of("tiny/tiny-llama-q8_0.gguf", 1),
                Arguments.of("tiny/tiny-llama-q8_0.gguf", 2),
                Arguments.of("tiny/tiny-gemma-q8_0.gguf", 1),
                Arguments.of("tiny/tiny-gemma-q8_0.gguf", 2),
                Arguments.of("tiny/tiny-gemma2-q8_0.gguf", 1),
                Arguments.of("tiny/tiny-gemma2-q8_0.gguf", 2),
                Arguments.of("tiny/tiny-gemma3-q8_0.gguf", 1),
                Arguments.of("tiny/tiny-gemma4-q8_0.gguf", 1),
                Arguments.of("tiny/tiny-gemma4-moe-q8_0.gguf", 1),
                Arguments.of("stories/stories260K-q8_0.gguf", 1));
    }

    @ParameterizedTest(name = "{0} in {1} worker JVM(s)")
    @MethodSource("cases")
    void greedyTokensEqualTheEngine(String modelName, int stages) throws Exception {
        Path model = Fixtures.file(modelName);
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode e : new ObjectMapper().readTree(Fixtures.file("refs/index.json").toFile())) {
            if (e.get("model").asText().equals(modelName) && e.get("kv_cache").asText().equals("f32")) {
                prompts.add(Fixtures.ints(e.get("prompt")));
            }
        }
        assertThat(prompts).as("reference prompts of " + modelName).isNotEmpty();
        try (Cluster cluster = Cluster.serving(model, stages)) {
            var stub = cluster.stub();
            for (int[] ids : prompts) {
                assertThat(Streams.tokens(stub.generate(Streams.greedy(ids, 32))))
                        .as("%s, %d stage(s), prompt of %d tokens", modelName, stages, ids.length)
                        .containsExactly(Streams.reference(model, ids, 32));
            }
        }
    }
}
