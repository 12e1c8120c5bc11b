package catena.shard.sample;

/**
 * How to pick the next token. temperature {@code <= 0} = greedy (lowest id on ties); topK 0 = off;
 * topP 1 = off; minP 0 = off; repetitionPenalty 1 = off, applied over the last
 * {@code repetitionWindow} tokens of prompt + output (llama.cpp's penalty_last_n; 0 = off). The
 * seed keys the counter-based draw: the same seed, step and inputs always give the same token.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repetitionWindow, long seed) {

    /** Argmax decoding, no penalty. */
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0L);

    public boolean greedy() {
        return temperature <= 0f;
    }

    /**
     * Returns this if every field is in range, else throws IllegalArgumentException naming the first
     * one out of range ("invalid sampling parameter: name=value, expected rule"); the gateway maps it
     * to INVALID_ARGUMENT. Field names are the API's (snake_case).
     */
    public SamplingParams validate() {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw invalid("temperature", temperature, "a finite number >= 0 (0 = greedy)");
        }
        if (topK < 0) {
            throw invalid("top_k", topK, ">= 0 (0 = off)");
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw invalid("top_p", topP, "0 < top_p <= 1 (1 = off)");
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw invalid("min_p", minP, "0 <= min_p <= 1 (0 = off)");
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw invalid("repetition_penalty", repetitionPenalty, "a finite number > 0 (1 = off)");
        }
        if (repetitionWindow < 0) {
            throw invalid("repetition_window", repetitionWindow, ">= 0 (0 = off)");
        }
        return this;
    }

    private static IllegalArgumentException invalid(String name, Object value, String rule) {
        return new IllegalArgumentException("invalid sampling parameter: " + name + "=" + value + ", expected " + rule);
    }
}
