package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;

/** Picks the tokenizer from {@code tokenizer.ggml.model}. */
final class Tokenizers {
    private Tokenizers() {
    }

    static Tokenizer fromGguf(GgufMetadata metadata) {
        Vocabulary vocab = new Vocabulary(metadata);
        return switch (vocab.model) {
            case "llama" -> new GgufTokenizer(vocab, new SpmEncoder(vocab), true);
            case "gemma4" -> new GgufTokenizer(vocab, new Gemma4BpeEncoder(vocab, metadata), false);
            default -> throw new IllegalStateException("unreachable: Vocabulary accepted model " + vocab.model);
        };
    }
}
