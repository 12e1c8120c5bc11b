package catena.shard.eval;

/** Median and percentiles of a sorted sample, as llama.cpp's perplexity reports them for KLD. */
public final class Quantiles {
    private Quantiles() {
    }

    /** The middle value, or the mean of the two middle values for an even count. */
    public static double median(double[] sorted) {
        requireSome(sorted);
        int n = sorted.length;
        return n % 2 == 0 ? 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) : sorted[n / 2];
    }

    /** Linear interpolation at {@code fraction * (n-1)}; the ends for fractions at or beyond 0 and 1. */
    public static double percentile(double[] sorted, double fraction) {
        requireSome(sorted);
        if (fraction <= 0) {
            return sorted[0];
        }
        if (fraction >= 1) {
            return sorted[sorted.length - 1];
        }
        double p = fraction * (sorted.length - 1);
        int ip = (int) p;
        double w = p - ip;
        return (1 - w) * sorted[ip] + w * sorted[Math.min(ip + 1, sorted.length - 1)];
    }

    private static void requireSome(double[] sorted) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("quantile of an empty sample");
        }
    }
}
