package catena.shard.sample;

/**
 * How to pick the next token. temperature 0 = greedy (lowest id on ties). topK 0 = off,
 * topP 1 = off, minP 0 = off, repetitionPenalty 1 = off (applied over the last
 * {@code repetitionWindow} tokens of prompt + output, as llama.cpp's penalty_last_n).
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repetitionWindow, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0L);

    public boolean greedy() {
        return temperature <= 0f;
    }

    /** Throws IllegalArgumentException naming the first parameter out of range. */
    public SamplingParams validate() {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("top_p must be in (0, 1] (1 = off), got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw new IllegalArgumentException("min_p must be in [0, 1] (0 = off), got " + minP);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a finite number > 0 (1 = off), got "
                    + repetitionPenalty);
        }
        if (repetitionWindow < 0) {
            throw new IllegalArgumentException("repetition window must be >= 0, got " + repetitionWindow);
        }
        return this;
    }
}
