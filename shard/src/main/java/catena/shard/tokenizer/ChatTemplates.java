package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;
import java.util.Arrays;
import java.util.List;

/**
 * Picks the chat format from the vocabulary, not from model names: Gemma 4 when the tokenizer
 * is {@code gemma4} or the vocabulary has {@code <|turn>}; Gemma 1-3 when it has
 * {@code <start_of_turn>}; otherwise plain text.
 */
final class ChatTemplates {
    private static final List<String> ROLES = List.of("system", "user", "assistant", "model");

    private ChatTemplates() {
    }

    static ChatTemplate forModel(GgufMetadata metadata) {
        String model = metadata.getString("tokenizer.ggml.model", "");
        List<String> tokens = metadata.has("tokenizer.ggml.tokens")
                ? Arrays.asList(metadata.getStringArray("tokenizer.ggml.tokens")) : List.of();
        if (model.equals("gemma4") || tokens.contains("<|turn>")) {
            return new Gemma4TurnTemplate();
        }
        if (tokens.contains("<start_of_turn>")) {
            return new GemmaTurnTemplate();
        }
        return new PlainTextTemplate();
    }

    /** The role as the templates write it ("assistant" → "model"); rejects unknown roles. */
    static String role(ChatMessage m) {
        if (m == null || m.role() == null || m.content() == null) {
            throw new IllegalArgumentException("chat message: role and content must be set, got " + m);
        }
        String role = m.role().strip().toLowerCase(java.util.Locale.ROOT);
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("chat message: role='" + m.role()
                    + "', expected one of system, user, assistant, model");
        }
        return role.equals("assistant") ? "model" : role;
    }
}
