package catena.shard.tokenizer;

import java.util.List;

/**
 * Gemma 1/2/3 ({@code <start_of_turn>} family, GEMMA_SPEC.md §11.1), as llama.cpp's built-in
 * {@code LLM_CHAT_TEMPLATE_GEMMA}: each turn is {@code <start_of_turn>ROLE\nCONTENT<end_of_turn>\n}
 * with content trimmed and "assistant" written "model"; Gemma has no system role, so system
 * text (trimmed) is folded into the next user turn followed by a blank line. A system message
 * that no user turn follows becomes a user turn of its own rather than being lost.
 *
 * <p>No {@code <bos>} in the text: the tokenizer adds BOS ({@code encode(text, true, true)}).
 */
final class GemmaTurnTemplate implements ChatTemplate {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        StringBuilder system = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = ChatTemplates.role(m);
            String content = m.content().strip();
            if (role.equals("system")) {
                system.append(content);
                continue;
            }
            sb.append("<start_of_turn>").append(role).append('\n');
            if (!system.isEmpty() && role.equals("user")) {
                sb.append(system).append("\n\n");
                system.setLength(0);
            }
            sb.append(content).append("<end_of_turn>\n");
        }
        if (!system.isEmpty()) {
            sb.append("<start_of_turn>user\n").append(system).append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) {
            sb.append("<start_of_turn>model\n");
        }
        return sb.toString();
    }
}
