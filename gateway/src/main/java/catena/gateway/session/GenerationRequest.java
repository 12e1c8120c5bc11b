package catena.gateway.session;

import catena.shard.sample.SamplingParams;
import java.util.Arrays;
import java.util.List;

/**
 * A validated generation: prompt token ids, sampling, at most {@code maxTokens} new tokens (the
 * prompt plus them fit the context), and stop strings.
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, int maxTokens, List<String> stop) {
    public GenerationRequest {
        stop = List.copyOf(stop);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationRequest r && Arrays.equals(prompt, r.prompt) && sampling.equals(r.sampling)
                && maxTokens == r.maxTokens && stop.equals(r.stop);
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
