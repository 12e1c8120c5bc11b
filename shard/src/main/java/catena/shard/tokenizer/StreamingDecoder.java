package catena.shard.tokenizer;

/** Incremental detokenizer: feed ids one at a time, get back only text whose UTF-8 is complete. */
public interface StreamingDecoder {

    /** Text made complete by this token (possibly empty while a multi-byte character is pending). */
    String accept(int id);

    /** Whatever is still pending at the end of the stream (incomplete bytes as U+FFFD). */
    String flush();
}
