package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;

final class ChatTemplates {
    private ChatTemplates() {
    }

    static ChatTemplate forModel(GgufMetadata metadata) {
        throw new UnsupportedOperationException("chat template not built yet");
    }
}
