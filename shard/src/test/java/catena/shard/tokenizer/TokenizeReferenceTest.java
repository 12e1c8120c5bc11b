package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every case of the fixtures' llama-tokenize references ({@code tokenize/tokenize-ref.json}) reproduced exactly. */
class TokenizeReferenceTest {

    static Stream<Arguments> cases() {
        JsonNode ref = TokenizerFixtures.json("tokenize/tokenize-ref.json");
        List<Arguments> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> model : ref.properties()) {
            for (JsonNode c : model.getValue().get("cases")) {
                if (!c.has("ids")) {
                    continue;
                }
                List<String> flags = new ArrayList<>();
                c.get("flags").forEach(f -> flags.add(f.asText()));
                int[] ids = new int[c.get("ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = c.get("ids").get(i).asInt();
                }
                out.add(Arguments.of(model.getKey(), c.get("text").asText(), flags, ids));
            }
        }
        assertThat(out).as("cases in tokenize-ref.json").hasSizeGreaterThanOrEqualTo(80);
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {2} {1}")
    @MethodSource("cases")
    void matchesLlamaCpp(String model, String text, List<String> flags, int[] expected) {
        Tokenizer t = TokenizerFixtures.tokenizer(model);
        int[] ids = t.encode(text, !flags.contains("--no-bos"), !flags.contains("--no-parse-special"));
        assertThat(ids).containsExactly(expected);
    }
}
