package catena.shard.sample;

/**
 * How to pick the next token. temperature 0 = greedy (lowest id on ties). topK 0 = off,
 * topP 1 = off, minP 0 = off, repetitionPenalty 1 = off (applied over the last
 * {@code repetitionWindow} tokens of prompt + output, as llama.cpp's penalty_last_n).
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repetitionWindow, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0L);
}
