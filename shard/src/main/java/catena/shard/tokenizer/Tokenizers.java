package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;

final class Tokenizers {
    private Tokenizers() {
    }

    static Tokenizer fromGguf(GgufMetadata metadata) {
        throw new UnsupportedOperationException("tokenizer not built yet");
    }
}
