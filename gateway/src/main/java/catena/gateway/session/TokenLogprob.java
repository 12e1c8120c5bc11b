package catena.gateway.session;

import java.util.Arrays;

/**
 * The log-probability of one generated token and the {@code topIds.length} most likely
 * alternatives at its step, most likely first. They are the log-softmax of the model's raw logits
 * at that position: before repetition penalty, temperature and top-k/top-p/min-p filtering (what
 * the model said, not what the sampler's filters left).
 */
public record TokenLogprob(int token, float logprob, int[] topIds, float[] topLogprobs) {
    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLogprob t && token == t.token && Float.compare(logprob, t.logprob) == 0
                && Arrays.equals(topIds, t.topIds) && Arrays.equals(topLogprobs, t.topLogprobs);
    }

    @Override
    public int hashCode() {
        return token * 31 + Float.hashCode(logprob);
    }

    @Override
    public String toString() {
        return "TokenLogprob[" + token + ", " + logprob + ", top " + topIds.length + "]";
    }
}
