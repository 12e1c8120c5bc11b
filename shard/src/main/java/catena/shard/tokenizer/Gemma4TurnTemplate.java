package catena.shard.tokenizer;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Gemma 4 ({@code <|turn>} family, GEMMA_SPEC.md §11.2), thinking off and no tools: system
 * messages form one leading {@code <|turn>system\n...<turn|>\n} turn, then each message is
 * {@code <|turn>ROLE\nCONTENT<turn|>\n} (content trimmed, "assistant" written "model", earlier
 * thoughts {@code <|channel>...<channel|>} removed from model turns). The generation prompt
 * is {@code <|turn>model\n} as in Google's prompt-formatting guide; the empty thought block
 * that llama.cpp's bundled templates append is not emitted (see GEMMA_SPEC.md §13.5).
 *
 * <p>No {@code <bos>} in the text: the tokenizer adds BOS ({@code encode(text, true, true)}).
 */
final class Gemma4TurnTemplate implements ChatTemplate {
    private static final Pattern THOUGHT = Pattern.compile("<\\|channel>.*?<channel\\|>", Pattern.DOTALL);

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder system = new StringBuilder();
        StringBuilder turns = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = ChatTemplates.role(m);
            String content = m.content();
            if (role.equals("system")) {
                if (!system.isEmpty()) {
                    system.append("\n\n");
                }
                system.append(content.strip());
                continue;
            }
            if (role.equals("model")) {
                content = THOUGHT.matcher(content).replaceAll("");
            }
            turns.append("<|turn>").append(role).append('\n').append(content.strip()).append("<turn|>\n");
        }
        StringBuilder sb = new StringBuilder();
        if (!system.isEmpty()) {
            sb.append("<|turn>system\n").append(system).append("<turn|>\n");
        }
        sb.append(turns);
        if (addGenerationPrompt) {
            sb.append("<|turn>model\n");
        }
        return sb.toString();
    }
}
