package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Picks the chat format from the vocabulary, not from model names: Gemma 4 when the tokenizer
 * is {@code gemma4} or the vocabulary has {@code <|turn>}; Gemma 1-3 when it has
 * {@code <start_of_turn>}; otherwise plain text.
 *
 * <p>Gemma 4's empty thought block after the generation prompt is emitted only when the
 * vocabulary has the {@code <|channel>} and {@code <channel|>} tokens (without them the text
 * would be spelled out as ordinary pieces) and the file's own {@code tokenizer.chat_template},
 * if it has one, writes that block too.
 */
final class ChatTemplates {
    private static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "model");

    private ChatTemplates() {
    }

    static ChatTemplate forModel(GgufMetadata metadata) {
        String model = metadata.getString("tokenizer.ggml.model", "");
        List<String> tokens = metadata.has("tokenizer.ggml.tokens")
                ? Arrays.asList(metadata.getStringArray("tokenizer.ggml.tokens")) : List.of();
        if (model.equals("gemma4") || tokens.contains("<|turn>")) {
            String template = metadata.getString("tokenizer.chat_template", null);
            boolean thoughtBlock = tokens.contains("<|channel>") && tokens.contains("<channel|>")
                    && (template == null || template.contains("<|channel>thought"));
            return new Gemma4TurnTemplate(thoughtBlock);
        }
        if (tokens.contains("<start_of_turn>")) {
            return new GemmaTurnTemplate();
        }
        return new PlainTextTemplate();
    }

    /** The role as the templates write it ("assistant" → "model", "developer" → "system"); rejects unknown roles. */
    static String role(ChatMessage m) {
        if (m == null || m.role() == null || m.content() == null) {
            throw new IllegalArgumentException("chat message: role and content must be set, got " + m);
        }
        String role = m.role().strip().toLowerCase(Locale.ROOT);
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("chat message: role='" + m.role()
                    + "', expected one of system, developer, user, assistant, model");
        }
        return switch (role) {
            case "assistant" -> "model";
            case "developer" -> "system";
            default -> role;
        };
    }
}
