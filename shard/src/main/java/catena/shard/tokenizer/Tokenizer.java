package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;

/**
 * Text to token ids and back, built from the GGUF vocabulary ({@code tokenizer.ggml.*} keys).
 * Implementations: SentencePiece-style BPE by scores ({@code tokenizer.ggml.model = "llama"}) and
 * Gemma 4's rank-based BPE ({@code "gemma4"}). Immutable and thread-safe.
 */
public interface Tokenizer {

    /** The tokenizer the GGUF metadata describes; refuses unknown models with a clear message. */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        return Tokenizers.fromGguf(metadata);
    }

    /**
     * Token ids for {@code text}. {@code addBos}: prepend BOS when the vocabulary asks for it
     * ({@code tokenizer.ggml.add_bos_token}); {@code parseSpecial}: text such as
     * {@code <start_of_turn>} becomes its control token instead of plain text.
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The bytes a token stands for when it is printed (control tokens: none). */
    byte[] tokenBytes(int id);

    /** The text of a whole sequence (control tokens dropped; invalid UTF-8 replaced). */
    String decode(int[] ids);

    /** A decoder that turns a stream of ids into text, emitting only complete UTF-8. */
    StreamingDecoder newDecoder();

    /**
     * A streaming decoder. {@code atStartOfText} (what {@link #newDecoder()} assumes): the ids
     * begin a text, so for vocabularies with a space prefix ({@code add_space_prefix}) one
     * leading space of the first piece is dropped, as llama.cpp's detokenizer does. Pass false
     * when the ids continue text that was decoded elsewhere (generation after a prompt), where
     * that space is real.
     */
    default StreamingDecoder newDecoder(boolean atStartOfText) {
        return newDecoder();
    }

    /**
     * Whether {@code encode(text, true, ..)} prepends BOS (the vocabulary's {@code add_bos_token}):
     * llama.cpp's perplexity puts BOS at the start of every chunk exactly when this holds.
     */
    default boolean addsBos() {
        int[] ids = encode("", true, false);
        return ids.length > 0 && ids[0] == bos();
    }

    int vocabSize();

    int bos();

    int eos();

    /** The token's vocabulary string (as stored in the GGUF). */
    String tokenText(int id);

    /** True for tokens that end a generation: EOS, end-of-turn and the model's other stop tokens. */
    boolean isEndOfGeneration(int id);
}
