package catena.shard.tokenizer;

import catena.shard.gguf.GgufFormatException;
import catena.shard.gguf.GgufMetadata;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The token table of a GGUF file with the defaults and fix-ups llama.cpp applies when it loads
 * one ({@code llama_vocab::impl::load}): default special ids and flags per tokenizer model,
 * end-of-generation tokens recognised by their text (and marked CONTROL), and the list of
 * tokens the special-token partition matches. Immutable.
 */
final class Vocabulary {
    static final int NONE = -1;

    /** Texts llama.cpp takes for an end-of-turn token when {@code eot_token_id} is absent. */
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>");

    /** Texts llama.cpp treats as end of generation (src/llama-vocab.cpp, "special_eog_ids"). */
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<｜end▁of▁sentence｜>");

    final String model;
    final String[] texts;
    final float[] scores;
    final int[] attrs;
    final Map<String, Integer> idOf;
    final int bos;
    final int eos;
    final int eot;
    final boolean addBos;
    final boolean addEos;
    final boolean addSpacePrefix;
    /** Partition order: CONTROL / USER_DEFINED / UNKNOWN tokens, longest UTF-8 text first. */
    final int[] specialTokens;
    private final BitSet endOfGeneration;
    /** Byte-fallback token per byte value ({@code <0xXX>}), NONE where the vocabulary has none. */
    private final int[] byteTokens;

    Vocabulary(GgufMetadata md) {
        this.model = md.getString("tokenizer.ggml.model");
        boolean spm = model.equals("llama");
        if (!spm && !model.equals("gemma4")) {
            throw new IllegalArgumentException("tokenizer.ggml.model='" + model
                    + "' is not supported, expected 'llama' (SentencePiece) or 'gemma4'");
        }
        this.texts = md.getStringArray("tokenizer.ggml.tokens").clone();
        int n = texts.length;
        if (n == 0) {
            throw new GgufFormatException("tokenizer.ggml.tokens is empty");
        }
        this.scores = md.has("tokenizer.ggml.scores") ? scores(md, n) : new float[n];
        this.attrs = new int[n];
        int[] types = md.has("tokenizer.ggml.token_type") ? md.getIntArray("tokenizer.ggml.token_type") : null;
        if (types != null && types.length < n) {
            throw new GgufFormatException("tokenizer.ggml.token_type: length=" + types.length
                    + ", expected at least " + n + " (one per token)");
        }
        this.idOf = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            if (texts[i].isEmpty()) {
                texts[i] = "[EMPTY_" + i + "]"; // as llama.cpp, so that every token has a distinct text
            }
            Integer prev = idOf.putIfAbsent(texts[i], i);
            if (prev != null) {
                throw new GgufFormatException("tokenizer.ggml.tokens: duplicate token '" + texts[i] + "' at ids "
                        + prev + " and " + i);
            }
            attrs[i] = types == null ? TokenAttr.NORMAL : TokenAttr.fromGgufType(types[i]);
        }

        // llama.cpp defaults: SPM has bos 1 / eos 2, add_bos and a space prefix; gemma4 has none.
        this.bos = specialId(md, "tokenizer.ggml.bos_token_id", spm ? 1 : NONE, n);
        this.eos = specialId(md, "tokenizer.ggml.eos_token_id", spm ? 2 : NONE, n);
        boolean addBosFlag = md.getBool("tokenizer.ggml.add_bos_token", spm);
        this.addBos = addBosFlag || !spm; // llama.cpp forces add_bos for Gemma 4 (PR #21500)
        this.addEos = md.getBool("tokenizer.ggml.add_eos_token", false);
        this.addSpacePrefix = md.getBool("tokenizer.ggml.add_space_prefix", spm);
        if (addBos && bos == NONE) {
            throw new GgufFormatException("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        }
        if (addEos && eos == NONE) {
            throw new GgufFormatException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");
        }

        int eotId = specialId(md, "tokenizer.ggml.eot_token_id", NONE, n);
        if (eotId == NONE) {
            eotId = EOT_TEXTS.stream().map(idOf::get).filter(id -> id != null).mapToInt(Integer::intValue)
                    .min().orElse(NONE);
            if (eotId != NONE) {
                attrs[eotId] |= TokenAttr.CONTROL;
            }
        }
        this.eot = eotId;

        this.endOfGeneration = new BitSet(n);
        for (String text : EOG_TEXTS) {
            Integer id = idOf.get(text);
            if (id != null) {
                endOfGeneration.set(id);
                attrs[id] |= TokenAttr.CONTROL;
            }
        }
        if (eos != NONE) {
            endOfGeneration.set(eos);
        }
        if (eot != NONE) {
            endOfGeneration.set(eot);
        }
        // llama.cpp, last: with Gemma 4's <|tool_response>, "</s>" is ordinary text, not a stop.
        Integer s = idOf.get("</s>");
        if (s != null && idOf.containsKey("<|tool_response>")) {
            endOfGeneration.clear(s);
            attrs[s] = TokenAttr.NORMAL;
        }

        int special = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;
        int[] utf8Length = new int[n];
        for (int i = 0; i < n; i++) {
            utf8Length[i] = texts[i].getBytes(StandardCharsets.UTF_8).length;
        }
        this.specialTokens = IntStream.range(0, n).filter(i -> (attrs[i] & special) != 0).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -utf8Length[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();

        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = idOf.get(String.format("<0x%02X>", b));
            if (id == null && spm && b < 0x80) {
                id = idOf.get(String.valueOf((char) b)); // llama.cpp's SPM fallback: the byte as text
            }
            byteTokens[b] = id == null ? NONE : id;
        }
    }

    private static float[] scores(GgufMetadata md, int n) {
        float[] s = md.getFloatArray("tokenizer.ggml.scores");
        if (s.length < n) {
            throw new GgufFormatException("tokenizer.ggml.scores: length=" + s.length + ", expected at least " + n);
        }
        return Arrays.copyOf(s, n);
    }

    /** A special-token id key; out-of-range values are ignored as llama.cpp does ("bad special token"). */
    private static int specialId(GgufMetadata md, String key, int fallback, int n) {
        int id = fallback >= n ? NONE : fallback;
        if (md.has(key)) {
            long v = md.getLong(key);
            if (v >= 0 && v < n) {
                id = (int) v;
            }
        }
        return id;
    }

    int size() {
        return texts.length;
    }

    /** The token whose text is exactly {@code text}, or NONE. */
    int find(String text) {
        Integer id = idOf.get(text);
        return id == null ? NONE : id;
    }

    boolean has(int id, int attr) {
        return (attrs[id] & attr) != 0;
    }

    boolean isEndOfGeneration(int id) {
        return id >= 0 && id < texts.length && endOfGeneration.get(id);
    }

    /** The byte-fallback token of {@code b}, or NONE. */
    int byteToken(int b) {
        return byteTokens[b & 0xFF];
    }

    /** The byte a BYTE token ({@code <0xXX>}) stands for. */
    int byteValue(int id) {
        String t = texts[id];
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            return Integer.parseInt(t.substring(3, 5), 16);
        }
        if (t.length() == 1 && t.charAt(0) < 0x80) {
            return t.charAt(0);
        }
        throw new GgufFormatException("token " + id + " '" + t + "' is typed BYTE but is not of the form <0xXX>");
    }
}
