package catena.gateway.session;

import java.util.Arrays;
import java.util.List;

/**
 * New text since the previous output (complete UTF-8 only; may be empty), the ids of the tokens
 * generated since then, their log-probabilities when the request asked for them (else empty), and,
 * on the last output only, why it finished and the token counts (else null).
 */
public record GenerationOutput(String text, int[] tokenIds, List<TokenLogprob> logprobs, FinishReason finishReason,
                               Usage usage) {
    public GenerationOutput {
        logprobs = List.copyOf(logprobs);
    }

    /** Whether this is the last output of the generation. */
    public boolean last() {
        return finishReason != null;
    }

    /** Why a generation ended. */
    public enum FinishReason {
        /** A stop string was produced (it is not part of the text). */
        STOP,
        /** max tokens were generated, or the context is full. */
        LENGTH,
        /** The model produced an end-of-generation token. */
        EOS
    }

    /** Tokens of the prompt (after templating) and of the completion (including an end token). */
    public record Usage(int promptTokens, int completionTokens) {
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationOutput g && text.equals(g.text) && Arrays.equals(tokenIds, g.tokenIds)
                && logprobs.equals(g.logprobs) && finishReason == g.finishReason && java.util.Objects.equals(usage, g.usage);
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + Arrays.hashCode(tokenIds);
    }

    @Override
    public String toString() {
        return "GenerationOutput[" + tokenIds.length + " tokens, finish=" + finishReason + "]";
    }
}
