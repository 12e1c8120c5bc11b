package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prompts of the llama.cpp reference runs ({@code refs/index.json}): their text encodes to
 * exactly the ids llama.cpp fed the model, and chat prompts are what the chat template renders
 * for a single user message.
 */
class ReferencePromptTest {
    static final String CHAT_USER = "Once upon a time, there was a little girl named Lily. Tell me more.";

    static Stream<Arguments> prompts() {
        Map<String, Arguments> unique = new LinkedHashMap<>();
        for (JsonNode c : TokenizerFixtures.json("refs/index.json")) {
            if (!c.hasNonNull("prompt_text")) {
                continue;
            }
            String model = Path.of(c.get("model").asText()).getFileName().toString();
            int[] ids = new int[c.get("prompt").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = c.get("prompt").get(i).asInt();
            }
            String name = c.get("prompt_name").asText();
            unique.putIfAbsent(model + " " + name, Arguments.of(model, name, c.get("prompt_text").asText(), ids));
        }
        assertThat(unique).as("reference prompts with text").isNotEmpty();
        return unique.values().stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("prompts")
    void promptTextEncodesToReferenceIds(String model, String name, String text, int[] ids) {
        assertThat(TokenizerFixtures.tokenizer(model).encode(text, true, true)).containsExactly(ids);
    }

    static Stream<Arguments> chatPrompts() {
        List<Arguments> chats = new ArrayList<>();
        prompts().filter(a -> a.get()[1].equals("chat")).forEach(chats::add);
        assertThat(chats).as("chat reference prompts").isNotEmpty();
        return chats.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chatPrompts")
    void chatTemplateRendersTheReferencePrompt(String model, String name, String text, int[] ids) {
        ChatTemplate template = ChatTemplate.forModel(TokenizerFixtures.metadata(model));
        String rendered = template.render(List.of(new ChatMessage("user", CHAT_USER)), true);
        assertThat(rendered).isEqualTo(text);
        assertThat(TokenizerFixtures.tokenizer(model).encode(rendered, true, true)).containsExactly(ids);
    }
}
