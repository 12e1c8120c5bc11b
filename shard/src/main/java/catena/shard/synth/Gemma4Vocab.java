package catena.shard.synth;

import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import catena.shard.gguf.GgufWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A Gemma 4 style vocabulary of any size ({@code tokenizer.ggml.model = "gemma4"}: BPE by merge
 * rank, GEMMA_SPEC.md §10.5) with the fixtures' special-token layout (0 pad, 1 eos, 2 bos, 3 unk,
 * 4 mask, 5 {@code <|turn>}, 6 {@code <turn|>}), the thought-channel control tokens, newline
 * runs, the 256 byte-fallback tokens and filler pieces of letters with and without {@code ▁}.
 * Every multi-character piece has the merge that builds it from its prefix and its last
 * character, ranked shorter pieces first, so every piece is reachable. Not a trained vocabulary.
 */
public final class Gemma4Vocab {
    private static final int NORMAL = VocabPrelude.NORMAL;
    private static final int CONTROL = VocabPrelude.CONTROL;

    private Gemma4Vocab() {
    }

    /** Writes the {@code tokenizer.*} keys of a {@code size}-token Gemma 4 vocabulary. */
    public static void write(GgufWriter w, int size) {
        List<String> tokens = new ArrayList<>(size);
        List<Integer> types = new ArrayList<>(size);
        VocabPrelude.add(tokens, types, "<|turn>", "<turn|>");
        for (String s : new String[] {"<|think|>", "<|channel>", "<channel|>"}) {
            tokens.add(s);
            types.add(CONTROL);
        }
        String alphabet = "etaoinshrdlcumwfgypbvkjxqz";
        if (size < tokens.size() + 1 + alphabet.length()) {
            throw new IllegalArgumentException("a Gemma 4 vocabulary needs at least "
                    + (tokens.size() + 1 + alphabet.length()) + " tokens");
        }
        List<String> merges = new ArrayList<>();
        tokens.add("▁");
        types.add(NORMAL);
        fill:
        for (int len = 1; ; len++) {
            long combos = (long) Math.pow(alphabet.length(), len);
            for (long c = 0; c < combos; c++) {
                StringBuilder sb = new StringBuilder();
                for (long i = 0, v = c; i < len; i++, v /= alphabet.length()) {
                    sb.append(alphabet.charAt((int) (v % alphabet.length())));
                }
                // Pieces of one length are added only after all shorter ones: prefixes always exist.
                for (String piece : new String[] {sb.toString(), "▁" + sb}) {
                    if (tokens.size() == size) {
                        break fill;
                    }
                    tokens.add(piece);
                    types.add(NORMAL);
                    if (piece.length() > 1) {
                        merges.add(piece.substring(0, piece.length() - 1) + " " + piece.substring(piece.length() - 1));
                    }
                }
            }
        }
        int[] typeArr = new int[size];
        for (int i = 0; i < size; i++) {
            typeArr[i] = types.get(i);
        }
        w.putString("tokenizer.ggml.model", "gemma4");
        w.putString("tokenizer.ggml.pre", "gemma4");
        w.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufValueType.STRING, tokens.toArray(new String[0])));
        w.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufValueType.FLOAT32, new float[size]));
        w.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufValueType.INT32, typeArr));
        w.put("tokenizer.ggml.merges", GgufValue.ofArray(GgufValueType.STRING, merges.toArray(new String[0])));
        w.putUint32("tokenizer.ggml.bos_token_id", 2);
        w.putUint32("tokenizer.ggml.eos_token_id", 1);
        w.putUint32("tokenizer.ggml.unknown_token_id", 3);
        w.putUint32("tokenizer.ggml.padding_token_id", 0);
        w.putUint32("tokenizer.ggml.eot_token_id", 6);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putBool("tokenizer.ggml.add_space_prefix", false);
    }
}
