package catena.gateway.bench;

/** One request of a benchmark, whatever the protocol: prompt token ids, output cap, sampling. */
public record BenchRequest(int[] prompt, int maxTokens, float temperature, long seed) {
}
