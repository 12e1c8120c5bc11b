package catena.gateway.session;

import catena.shard.sample.SamplingParams;
import java.util.Arrays;
import java.util.List;

/**
 * A validated generation: prompt token ids, sampling, at most {@code maxTokens} new tokens (the
 * prompt plus them fit the context), stop strings, and how many alternatives to report with each
 * token's log-probability ({@code logprobs}: {@link #NO_LOGPROBS} = none, 0 = the chosen token's
 * only, up to {@link #MAX_LOGPROBS}).
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, List<String> stop,
                                int logprobs) {
    /** {@code logprobs} value: report no log-probabilities. */
    public static final int NO_LOGPROBS = -1;
    /** The most alternatives a request may ask for per token. */
    public static final int MAX_LOGPROBS = 20;

    public GenerationRequest {
        stop = List.copyOf(stop);
        if (logprobs < NO_LOGPROBS || logprobs > MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs=" + logprobs + ", expected 0.." + MAX_LOGPROBS);
        }
    }

    /** A request without log-probabilities. */
    public GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, List<String> stop) {
        this(prompt, sampling, maxTokens, stop, NO_LOGPROBS);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationRequest r && Arrays.equals(prompt, r.prompt) && sampling.equals(r.sampling)
                && maxTokens == r.maxTokens && stop.equals(r.stop) && logprobs == r.logprobs;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(prompt) * 31 + maxTokens;
    }

    @Override
    public String toString() {
        return "GenerationRequest[prompt=" + prompt.length + " tokens, " + sampling + ", maxTokens=" + maxTokens
                + ", stop=" + stop.size() + "]";
    }
}
