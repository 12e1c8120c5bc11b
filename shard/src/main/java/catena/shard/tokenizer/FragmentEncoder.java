package catena.shard.tokenizer;

/** Encodes one raw-text fragment (what is left between special tokens) into token ids. */
interface FragmentEncoder {
    /**
     * @param text the fragment's text
     * @param afterSpecial true when the fragment starts the input or follows a special token
     *                     (SentencePiece adds its space prefix there)
     */
    void encode(String text, boolean afterSpecial, IntList out);
}
