package catena.gateway.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether a long prompt stalls the streams already decoding: the inter-token gaps of the
 * background streams before the long prompt was sent against those while it was being prefilled
 * (from its send to its first token). "Before" counts gaps that end after every background stream
 * has its first token (all are decoding) and before the send; "during" counts gaps that end
 * between the send and the long prompt's first token. A gap is charged to the window its later
 * token falls in, so a pass that straddles the send counts as "during": the worst case.
 */
public final class StallReport {
    private final long[] before;
    private final long[] during;
    private final long prefillNanos;
    private final int streamsEndedEarly;

    /**
     * {@code background}: the decoding streams' records; {@code interferer}: the long prompt's.
     * Throws when the measurement cannot hold: no tokens before the send, or the long prompt failed.
     */
    public StallReport(List<RequestRecord> background, RequestRecord interferer) {
        if (!interferer.ok() || interferer.outputTokens() == 0) {
            throw new IllegalStateException("the long prompt did not complete: "
                    + (interferer.ok() ? "no token" : interferer.error()));
        }
        long sent = interferer.sentNanos();
        long firstToken = interferer.tokenTimes()[0];
        long allDecoding = Long.MIN_VALUE;
        int early = 0;
        for (RequestRecord r : background) {
            if (!r.ok()) {
                throw new IllegalStateException("a background stream failed: " + r.error());
            }
            if (r.outputTokens() == 0) {
                throw new IllegalStateException("a background stream produced no token");
            }
            allDecoding = Math.max(allDecoding, r.tokenTimes()[0]);
            if (r.endNanos() < firstToken) {
                early++;
            }
        }
        this.before = gaps(background, allDecoding, sent);
        this.during = gaps(background, sent, firstToken);
        if (before.length == 0) {
            throw new IllegalStateException("no inter-token gap before the long prompt was sent: send it later");
        }
        this.prefillNanos = firstToken - sent;
        this.streamsEndedEarly = early;
    }

    /** Gaps between consecutive tokens of each stream whose later token arrived in (from, to]. */
    static long[] gaps(List<RequestRecord> streams, long from, long to) {
        long[] out = new long[16];
        int n = 0;
        for (RequestRecord r : streams) {
            long[] t = r.tokenTimes();
            for (int i = 1; i < t.length; i++) {
                if (t[i] > from && t[i] <= to) {
                    if (n == out.length) {
                        out = Arrays.copyOf(out, 2 * n);
                    }
                    out[n++] = t[i] - t[i - 1];
                }
            }
        }
        long[] g = Arrays.copyOf(out, n);
        Arrays.sort(g);
        return g;
    }

    /** The {@code q}-quantile (0..1) of sorted gaps by the nearest-rank method; -1 when empty. */
    static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public long p99BeforeNanos() {
        return quantile(before, 0.99);
    }

    public long p99DuringNanos() {
        return quantile(during, 0.99);
    }

    /** p99 during the prefill over p99 before it; NaN when no gap fell in the prefill. */
    public double p99Ratio() {
        return during.length == 0 ? Double.NaN : (double) p99DuringNanos() / p99BeforeNanos();
    }

    /** Background streams that ended before the long prompt's first token (their gaps are missing from "during"). */
    public int streamsEndedEarly() {
        return streamsEndedEarly;
    }

    public String table() {
        StringBuilder b = new StringBuilder();
        row(b, "Long prompt time to first token (s):", String.format(Locale.ROOT, "%.2f", prefillNanos / 1e9));
        row(b, "Gaps before / during:", before.length + " / " + during.length);
        row(b, "ITL p50 before / during (ms):", ms(quantile(before, 0.5)) + " / " + ms(quantile(during, 0.5)));
        row(b, "ITL p99 before / during (ms):", ms(p99BeforeNanos()) + " / " + ms(p99DuringNanos()));
        row(b, "ITL max before / during (ms):", ms(quantile(before, 1)) + " / " + ms(quantile(during, 1)));
        row(b, "p99 during / p99 before:", String.format(Locale.ROOT, "%.2f", p99Ratio()));
        if (streamsEndedEarly > 0) {
            row(b, "Streams ended before the prefill did:", streamsEndedEarly + " (raise --output-len)");
        }
        return b.toString();
    }

    public Map<String, Object> figures() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("long_prompt_ttft_s", prefillNanos / 1e9);
        m.put("gaps_before", before.length);
        m.put("gaps_during", during.length);
        m.put("itl_p99_before_ms", p99BeforeNanos() / 1e6);
        m.put("itl_p99_during_ms", p99DuringNanos() / 1e6);
        m.put("p99_ratio", p99Ratio());
        m.put("streams_ended_early", streamsEndedEarly);
        return m;
    }

    private static String ms(long nanos) {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }

    private static void row(StringBuilder b, String label, String value) {
        b.append(String.format(Locale.ROOT, "%-40s %s%n", label, value));
    }
}
