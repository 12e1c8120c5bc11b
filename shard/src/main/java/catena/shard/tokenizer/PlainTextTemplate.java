package catena.shard.tokenizer;

import java.util.List;

/**
 * For vocabularies without turn markers (Llama-2-style base models such as stories260K): the
 * model only continues text, so the prompt is the messages' contents separated by blank lines,
 * with no roles. The generation prompt adds nothing.
 */
final class PlainTextTemplate implements ChatTemplate {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            ChatTemplates.role(m); // validates the role
            if (!sb.isEmpty()) {
                sb.append("\n\n");
            }
            sb.append(m.content().strip());
        }
        return sb.toString();
    }
}
