package catena.shard.tokenizer;

import java.util.List;

/**
 * Gemma 4 ({@code <|turn>} family, GEMMA_SPEC.md §11.2), as llama.cpp's bundled
 * {@code models/templates/gemma4.jinja} with thinking off and no tools: a first system (or
 * developer) message becomes {@code <|turn>system\n...<turn|>\n}; then each message is
 * {@code <|turn>ROLE\nCONTENT<turn|>\n} with content trimmed, "assistant" written "model" and
 * earlier thoughts ({@code <|channel>...<channel|>}) removed from model turns. The generation
 * prompt is {@code <|turn>model\n}, followed by the empty thought block
 * {@code <|channel>thought\n<channel|>} when {@code emptyThoughtBlock} (the bundled template does
 * this with thinking off; see {@link ChatTemplates} for when it applies).
 *
 * <p>No {@code <bos>} in the text: the tokenizer adds BOS ({@code encode(text, true, true)}).
 */
final class Gemma4TurnTemplate implements ChatTemplate {
    private final boolean emptyThoughtBlock;

    Gemma4TurnTemplate(boolean emptyThoughtBlock) {
        this.emptyThoughtBlock = emptyThoughtBlock;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        int first = 0;
        if (!messages.isEmpty() && ChatTemplates.role(messages.get(0)).equals("system")) {
            sb.append("<|turn>system\n").append(messages.get(0).content().strip()).append("<turn|>\n");
            first = 1;
        }
        for (ChatMessage m : messages.subList(first, messages.size())) {
            String role = ChatTemplates.role(m);
            String content = role.equals("model") ? stripThinking(m.content()) : m.content().strip();
            sb.append("<|turn>").append(role).append('\n').append(content).append("<turn|>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<|turn>model\n");
            if (emptyThoughtBlock) {
                sb.append("<|channel>thought\n<channel|>");
            }
        }
        return sb.toString();
    }

    /** The template's {@code strip_thinking}: of each part ending at {@code <channel|>}, keep what precedes {@code <|channel>}. */
    static String stripThinking(String text) {
        StringBuilder out = new StringBuilder();
        for (String part : text.split("<channel\\|>", -1)) {
            int open = part.indexOf("<|channel>");
            out.append(open >= 0 ? part.substring(0, open) : part);
        }
        return out.toString().strip();
    }
}
