package catena.shard.tokenizer;

/** A piece of the input after the special-token partition: a token id, or raw text {@code [start, endExclusive)}. */
record Fragment(int token, int start, int endExclusive) {
    static Fragment text(int start, int endExclusive) {
        return new Fragment(Vocabulary.NONE, start, endExclusive);
    }

    static Fragment token(int id) {
        return new Fragment(id, 0, 0);
    }

    boolean isText() {
        return token == Vocabulary.NONE;
    }
}
