package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;
import java.util.List;

/** Renders a conversation into the prompt text a Gemma model was trained on (GEMMA_SPEC.md §11). */
public interface ChatTemplate {

    /** The template for the model (Gemma 1-3 {@code <start_of_turn>} family, Gemma 4 {@code <|turn>} family). */
    static ChatTemplate forModel(GgufMetadata metadata) {
        return ChatTemplates.forModel(metadata);
    }

    /**
     * The prompt text (to be encoded with parseSpecial = true, addBos = true). With
     * {@code addGenerationPrompt} it ends with the opening of the model's turn.
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);
}
