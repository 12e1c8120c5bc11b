package catena.shard.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A {@link Tokenizer} over a GGUF vocabulary: special-token partition, then the model's
 * fragment encoder (SentencePiece by scores, or Gemma 4's BPE by rank), with BOS/EOS as
 * llama.cpp's {@code llama_vocab::impl::tokenize} adds them. Token pieces are precomputed.
 */
final class GgufTokenizer implements Tokenizer {
    private final Vocabulary vocab;
    private final SpecialTokenSplitter splitter;
    private final FragmentEncoder encoder;
    private final boolean spacePrefixPerFragment;
    private final byte[][] pieces;

    GgufTokenizer(Vocabulary vocab, FragmentEncoder encoder, boolean spacePrefixPerFragment) {
        this.vocab = vocab;
        this.splitter = new SpecialTokenSplitter(vocab);
        this.encoder = encoder;
        this.spacePrefixPerFragment = spacePrefixPerFragment;
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = makePiece(id);
        }
    }

    /** llama.cpp's {@code token_to_piece} with special = false. */
    private byte[] makePiece(int id) {
        if (vocab.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
            return new byte[0];
        }
        if (vocab.has(id, TokenAttr.USER_DEFINED)) {
            return vocab.texts[id].getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.has(id, TokenAttr.NORMAL)) {
            return vocab.texts[id].replace(SpmEncoder.SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.has(id, TokenAttr.BYTE)) {
            return new byte[] {(byte) vocab.byteValue(id)};
        }
        return new byte[0]; // UNUSED / undefined tokens print nothing
    }

    @Override
    public boolean addsBos() {
        return vocab.addBos;
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList();
        if (addBos && vocab.addBos) {
            out.add(vocab.bos);
        }
        List<Fragment> fragments = splitter.split(text, parseSpecial);
        boolean afterSpecial = true; // the start of the input counts as "after a special token"
        for (Fragment f : fragments) {
            if (f.isText()) {
                encoder.encode(text.substring(f.start(), f.endExclusive()), afterSpecial && spacePrefixPerFragment, out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        if (addBos && vocab.addEos) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    @Override
    public byte[] tokenBytes(int id) {
        return piece(id).clone();
    }

    /** The token's bytes without a defensive copy, for the decoders of this package (never modified). */
    byte[] piece(int id) {
        checkId(id);
        return pieces[id];
    }

    @Override
    public String decode(int[] ids) {
        return Utf8StreamingDecoder.decodeAll(this, ids, vocab.addSpacePrefix);
    }

    @Override
    public StreamingDecoder newDecoder() {
        return newDecoder(true);
    }

    @Override
    public StreamingDecoder newDecoder(boolean atStartOfText) {
        return new Utf8StreamingDecoder(this, atStartOfText && vocab.addSpacePrefix);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return vocab.bos;
    }

    @Override
    public int eos() {
        return vocab.eos;
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id=" + id + ", expected 0 to " + (pieces.length - 1));
        }
    }
}
