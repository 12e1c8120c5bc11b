package catena.shard.tokenizer;

/** One turn of a conversation: role is "system", "user" or "assistant"/"model". */
public record ChatMessage(String role, String content) {
}
