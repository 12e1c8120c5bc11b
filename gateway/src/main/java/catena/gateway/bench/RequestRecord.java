package catena.gateway.bench;

/**
 * What one request of a benchmark saw, in nanoseconds from the benchmark's start: when it was
 * sent, when each token arrived ({@code tokenTimes}, one entry per output token, in order), when
 * it ended, and how: {@code error} null when it completed.
 */
public record RequestRecord(long sentNanos, long[] tokenTimes, long endNanos, int promptTokens, String error) {

    public boolean ok() {
        return error == null;
    }

    public int outputTokens() {
        return tokenTimes.length;
    }

    /** Time to first token; -1 without tokens. */
    public long ttftNanos() {
        return tokenTimes.length == 0 ? -1 : tokenTimes[0] - sentNanos;
    }

    /** Time per output token after the first (vLLM's TPOT); -1 with fewer than 2 tokens. */
    public long tpotNanos() {
        return tokenTimes.length < 2 ? -1 : (tokenTimes[tokenTimes.length - 1] - tokenTimes[0]) / (tokenTimes.length - 1);
    }

    public long e2eNanos() {
        return endNanos - sentNanos;
    }
}
