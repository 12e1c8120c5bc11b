package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.gguf.GgufMetadata;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The special-token partition and token attributes on a small hand-made vocabulary, for the
 * cases the fixtures' vocabularies do not have (USER_DEFINED tokens, overlapping specials,
 * llama.cpp's end-of-generation fix-ups).
 */
class SpecialTokenTest {
    private static final int NORMAL = 1;
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;

    private static final String[] TOKENS = {"<unk>", "<s>", "</s>", "ab", "abc", "<|tool_response>", "<|\"|>",
        "a", "b", "c", "x", "▁", "▁x"};
    private static final int[] TYPES = {UNKNOWN, CONTROL, CONTROL, USER_DEFINED, CONTROL, USER_DEFINED, USER_DEFINED,
        NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL};

    private static Tokenizer tokenizer() {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        kv.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufValueType.STRING, TOKENS));
        float[] scores = new float[TOKENS.length];
        scores[12] = -1;
        kv.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufValueType.FLOAT32, scores));
        kv.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufValueType.INT32, TYPES));
        kv.put("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(false));
        return Tokenizer.fromGguf(new GgufMetadata(kv));
    }

    @Test
    void controlTokensNeedParseSpecialUserDefinedAlwaysSplit() {
        Tokenizer t = tokenizer();
        // longest first: the CONTROL "abc" wins over the USER_DEFINED "ab" when parsing specials
        assertThat(t.encode("xabcx", false, true)).containsExactly(10, 4, 10);
        assertThat(t.encode("xabcx", false, false)).containsExactly(10, 3, 9, 10);
        assertThat(t.encode("<s>x", false, true)).containsExactly(1, 10);
        assertThat(t.encode("<|\"|>x<|\"|>", false, false)).containsExactly(6, 10, 6);
    }

    @Test
    void defaultsFollowLlamaCppForSentencePiece() {
        Tokenizer t = tokenizer();
        assertThat(t.bos()).isEqualTo(1); // no bos_token_id key: SPM default
        assertThat(t.eos()).isEqualTo(2);
        assertThat(t.encode("x", true, true)).containsExactly(1, 10); // no add_bos_token key: SPM adds BOS
        assertThat(t.encode(" x", false, false)).containsExactly(12);
    }

    @Test
    void endOfGenerationFixUpsOfLlamaCpp() {
        Tokenizer t = tokenizer();
        // <|tool_response> is a stop token, so llama.cpp marks it CONTROL: not split without
        // parseSpecial, printed as nothing
        assertThat(t.isEndOfGeneration(5)).isTrue();
        assertThat(t.encode("<|tool_response>", false, true)).containsExactly(5);
        // ...without it the text is plain text, which this vocabulary cannot spell (no byte tokens)
        assertThatThrownBy(() -> t.encode("<|tool_response>", false, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no byte token <0x3C>");
        assertThat(t.tokenBytes(5)).isEmpty();
        // with <|tool_response> present (Gemma 4), "</s>" is ordinary text and no stop
        assertThat(t.isEndOfGeneration(2)).isFalse();
        assertThat(new String(t.tokenBytes(2), StandardCharsets.UTF_8)).isEqualTo("</s>");
        assertThat(t.isEndOfGeneration(t.eos())).isFalse();
        // user-defined tokens print verbatim
        assertThat(new String(t.tokenBytes(6), StandardCharsets.UTF_8)).isEqualTo("<|\"|>");
    }
}
