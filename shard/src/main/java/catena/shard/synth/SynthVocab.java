package catena.shard.synth;

import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import catena.shard.gguf.GgufWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece-style vocabulary of any size with Gemma's special tokens, the 256 byte-fallback
 * tokens and filler pieces (letters and letter runs, with and without the ▁ word marker), scored
 * so that longer pieces win merges. Real enough that prompts tokenize and decode; not a trained
 * vocabulary.
 */
public final class SynthVocab {
    private static final int NORMAL = VocabPrelude.NORMAL;

    private SynthVocab() {
    }

    /** Writes the {@code tokenizer.*} keys of a Gemma 1-3 SentencePiece vocabulary of {@code size} tokens. */
    public static void gemmaSpm(GgufWriter w, int size) {
        List<String> tokens = new ArrayList<>(size);
        List<Integer> types = new ArrayList<>(size);
        VocabPrelude.add(tokens, types, "<start_of_turn>", "<end_of_turn>");
        if (size < tokens.size() + 1) {
            throw new IllegalArgumentException("a vocabulary needs at least " + (tokens.size() + 1) + " tokens");
        }
        String alphabet = "etaoinshrdlcumwfgypbvkjxqz";
        tokens.add("▁");
        types.add(NORMAL);
        fill:
        for (int len = 1; ; len++) {
            int combos = (int) Math.min(Integer.MAX_VALUE, Math.pow(alphabet.length(), len));
            for (int c = 0; c < combos; c++) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0, v = c; i < len; i++, v /= alphabet.length()) {
                    sb.append(alphabet.charAt(v % alphabet.length()));
                }
                for (String piece : new String[] {"▁" + sb, sb.toString()}) {
                    if (tokens.size() == size) {
                        break fill;
                    }
                    tokens.add(piece);
                    types.add(NORMAL);
                }
            }
        }
        float[] scores = new float[size];
        int[] typeArr = new int[size];
        for (int i = 0; i < size; i++) {
            // Longer pieces score higher, so merges build whole runs; ties broken by id.
            scores[i] = types.get(i) == NORMAL ? tokens.get(i).length() * 10f - i * 1e-4f : 0f;
            typeArr[i] = types.get(i);
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putString("tokenizer.ggml.pre", "default");
        w.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufValueType.STRING, tokens.toArray(new String[0])));
        w.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufValueType.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufValueType.INT32, typeArr));
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
