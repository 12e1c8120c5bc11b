package catena.gateway.bench;

import catena.v1.PipelineStats;
import catena.v1.StageStats;
import java.util.Locale;

/**
 * The prefix-cache counters of every replica's stage 0 summed (prompt tokens looked up and found
 * cached), and the later stages' misses, from a pipeline-stats answer; the difference of two
 * answers is what a benchmark run caused.
 */
public record PrefixCounts(long queryTokens, long hitTokens, long misses) {
    /** Blocks the stages name prompts by (the default --kv-block). */
    static final int BLOCK_TOKENS = 16;

    public static PrefixCounts of(PipelineStats stats) {
        long q = 0;
        long h = 0;
        long m = 0;
        for (StageStats s : stats.getStagesList()) {
            if (s.getIndex() == 0) {
                q += s.getPrefixQueryTokens();
                h += s.getPrefixHitTokens();
            }
            m += s.getPrefixMisses();
        }
        return new PrefixCounts(q, h, m);
    }

    public PrefixCounts minus(PrefixCounts earlier) {
        return new PrefixCounts(queryTokens - earlier.queryTokens, hitTokens - earlier.hitTokens,
                misses - earlier.misses);
    }

    /**
     * The share of the cacheable shared prefix found cached: hit tokens over {@code requests} x the
     * prefix's full blocks (a prefix cache can hold no more; 1.0 would mean even each system
     * prompt's first use hit).
     */
    public double prefixHitRate(int requests, int prefixLen) {
        long cacheable = (long) requests * (prefixLen / BLOCK_TOKENS) * BLOCK_TOKENS;
        return cacheable == 0 ? 0 : (double) hitTokens / cacheable;
    }

    /** The lines the benchmark prints. */
    public String table(int requests, int prefixLen) {
        StringBuilder b = new StringBuilder("---- Prefix cache (stage 0 of every replica) ----\n");
        b.append(String.format(Locale.ROOT, "%-36s %d / %d%n", "Hit / looked-up prompt tokens:", hitTokens,
                queryTokens));
        b.append(String.format(Locale.ROOT, "%-36s %.3f%n", "Token hit rate:",
                queryTokens == 0 ? 0.0 : (double) hitTokens / queryTokens));
        b.append(String.format(Locale.ROOT, "%-36s %.3f%n", "Shared-prefix hit rate:",
                prefixHitRate(requests, prefixLen)));
        b.append(String.format(Locale.ROOT, "%-36s %d%n", "Later-stage misses (re-run):", misses));
        return b.toString();
    }
}
