package catena.gateway;

import catena.shard.tokenizer.StreamingDecoder;
import catena.shard.tokenizer.Tokenizer;

/**
 * A test tokenizer over printable ASCII: id 0 = BOS, 1 = EOS, id 2 + k = the character ' ' + k
 * (k < 95), higher ids print as '#'. Pairs with the worker's ToyEngine for plumbing tests.
 */
public final class ToyTokenizer implements Tokenizer {
    private final int vocab;

    public ToyTokenizer(int vocab) {
        this.vocab = vocab;
    }

    public static String text(int id) {
        if (id < 2) {
            return "";
        }
        return id - 2 < 95 ? String.valueOf((char) (' ' + id - 2)) : "#";
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        int[] ids = new int[text.length() + (addBos ? 1 : 0)];
        int i = 0;
        if (addBos) {
            ids[i++] = 0;
        }
        for (char c : text.toCharArray()) {
            ids[i++] = 2 + Math.floorMod(c - ' ', 95);
        }
        return ids;
    }

    @Override
    public byte[] tokenBytes(int id) {
        return text(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            b.append(text(id));
        }
        return b.toString();
    }

    @Override
    public StreamingDecoder newDecoder() {
        return new StreamingDecoder() {
            @Override
            public String accept(int id) {
                return text(id);
            }

            @Override
            public String flush() {
                return "";
            }
        };
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int bos() {
        return 0;
    }

    @Override
    public int eos() {
        return 1;
    }

    @Override
    public String tokenText(int id) {
        return text(id);
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id == 1;
    }
}
