package catena.gateway.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The serving figures of a finished benchmark, from its requests' records: counts, throughput
 * over the wall time (first send to last end), and latency distributions recorded in
 * microseconds with three significant digits (HdrHistogram). TTFT, TPOT and end-to-end count
 * completed requests; ITL counts every gap between two tokens of a completed request.
 */
public final class ServeReport {
    private static final long MAX_MICROS = 3_600_000_000L;

    private final int completed;
    private final int failed;
    private final double seconds;
    private final long inputTokens;
    private final long outputTokens;
    private final int good;
    private final Goodput goodput;
    private final Histogram ttft = histogram();
    private final Histogram tpot = histogram();
    private final Histogram itl = histogram();
    private final Histogram e2e = histogram();
    private final String firstError;
    /** TTFT of the first request sent (ns; -1 if it failed), and the TTFTs of the others. */
    private final long firstTtft;
    private final Histogram laterTtft = histogram();

    public ServeReport(List<RequestRecord> records, Goodput goodput) {
        this.goodput = goodput;
        int ok = 0;
        int bad = 0;
        int meets = 0;
        long in = 0;
        long out = 0;
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        String error = null;
        RequestRecord first = null;
        for (RequestRecord r : records) {
            if (first == null || r.sentNanos() < first.sentNanos()) {
                first = r;
            }
        }
        for (RequestRecord r : records) {
            if (r != first && r.ok() && r.ttftNanos() >= 0) {
                record(laterTtft, r.ttftNanos());
            }
        }
        this.firstTtft = first == null || !first.ok() ? -1 : first.ttftNanos();
        for (RequestRecord r : records) {
            start = Math.min(start, r.sentNanos());
            end = Math.max(end, r.endNanos());
            if (!r.ok()) {
                bad++;
                error = error == null ? r.error() : error;
                continue;
            }
            ok++;
            in += r.promptTokens();
            out += r.outputTokens();
            if (goodput.meets(r)) {
                meets++;
            }
            if (r.ttftNanos() >= 0) {
                record(ttft, r.ttftNanos());
            }
            if (r.tpotNanos() >= 0) {
                record(tpot, r.tpotNanos());
            }
            long[] t = r.tokenTimes();
            for (int i = 1; i < t.length; i++) {
                record(itl, t[i] - t[i - 1]);
            }
            record(e2e, r.e2eNanos());
        }
        this.completed = ok;
        this.failed = bad;
        this.inputTokens = in;
        this.outputTokens = out;
        this.good = meets;
        this.seconds = records.isEmpty() ? 0 : Math.max(1e-9, (end - start) / 1e9);
        this.firstError = error;
    }

    private static Histogram histogram() {
        return new Histogram(MAX_MICROS, 3);
    }

    private static void record(Histogram h, long nanos) {
        h.recordValue(Math.min(MAX_MICROS, Math.max(0, nanos / 1000)));
    }

    public int completed() {
        return completed;
    }

    public int failed() {
        return failed;
    }

    public long outputTokens() {
        return outputTokens;
    }

    public double outputTokensPerSecond() {
        return seconds == 0 ? 0 : outputTokens / seconds;
    }

    /** The figures by name, in milliseconds and per second, as the JSON line has them. */
    public Map<String, Object> figures() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("completed", completed);
        m.put("failed", failed);
        m.put("duration_s", round(seconds));
        m.put("input_tokens", inputTokens);
        m.put("output_tokens", outputTokens);
        m.put("request_throughput_req_s", round(seconds == 0 ? 0 : completed / seconds));
        m.put("output_throughput_tok_s", round(outputTokensPerSecond()));
        m.put("total_token_throughput_tok_s", round(seconds == 0 ? 0 : (inputTokens + outputTokens) / seconds));
        if (goodput.isSet()) {
            m.put("goodput_req_s", round(seconds == 0 ? 0 : good / seconds));
        }
        put(m, "ttft", ttft);
        // A cold first request against warm later ones (a shared system prompt and a prefix cache).
        m.put("ttft_first_ms", round(firstTtft / 1e6));
        m.put("ttft_later_ms_median", laterTtft.getTotalCount() == 0 ? 0
                : round(laterTtft.getValueAtPercentile(50) / 1000.0));
        m.put("ttft_later_over_first", firstTtft <= 0 || laterTtft.getTotalCount() == 0 ? 0
                : round(laterTtft.getValueAtPercentile(50) * 1000.0 / firstTtft));
        put(m, "tpot", tpot);
        put(m, "itl", itl);
        put(m, "e2el", e2e);
        return m;
    }

    private static void put(Map<String, Object> m, String name, Histogram h) {
        boolean empty = h.getTotalCount() == 0;
        m.put(name + "_ms_mean", empty ? 0 : round(h.getMean() / 1000));
        m.put(name + "_ms_median", empty ? 0 : round(h.getValueAtPercentile(50) / 1000.0));
        m.put(name + "_ms_p99", empty ? 0 : round(h.getValueAtPercentile(99) / 1000.0));
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** The table a person reads (as vLLM's benchmark prints it). */
    public String table() {
        StringBuilder b = new StringBuilder();
        Map<String, Object> f = figures();
        b.append(String.format(Locale.ROOT, "%-36s %d%n", "Successful requests:", completed));
        b.append(String.format(Locale.ROOT, "%-36s %d%n", "Failed requests:", failed));
        if (firstError != null) {
            b.append(String.format(Locale.ROOT, "%-36s %s%n", "First error:", firstError));
        }
        b.append(String.format(Locale.ROOT, "%-36s %.2f%n", "Benchmark duration (s):", seconds));
        b.append(String.format(Locale.ROOT, "%-36s %d%n", "Total input tokens:", inputTokens));
        b.append(String.format(Locale.ROOT, "%-36s %d%n", "Total generated tokens:", outputTokens));
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "Request throughput (req/s):", f.get("request_throughput_req_s")));
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "Output token throughput (tok/s):", f.get("output_throughput_tok_s")));
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "Total token throughput (tok/s):", f.get("total_token_throughput_tok_s")));
        if (goodput.isSet()) {
            b.append(String.format(Locale.ROOT, "%-36s %s%n", "Request goodput (req/s):", f.get("goodput_req_s")));
        }
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "TTFT of the first request (ms):", f.get("ttft_first_ms")));
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "Median TTFT of the others (ms):",
                f.get("ttft_later_ms_median")));
        b.append(String.format(Locale.ROOT, "%-36s %s%n", "Others' median / first:", f.get("ttft_later_over_first")));
        for (String[] row : new String[][] {{"ttft", "Time to First Token"}, {"tpot", "Time per Output Token (excl. 1st)"},
                {"itl", "Inter-token Latency"}, {"e2el", "End-to-end Latency"}}) {
            b.append(String.format(Locale.ROOT, "---- %s ----%n", row[1]));
            for (String stat : new String[] {"mean", "median", "p99"}) {
                b.append(String.format(Locale.ROOT, "%-36s %s%n", stat.substring(0, 1).toUpperCase(Locale.ROOT)
                        + stat.substring(1) + " " + row[0].toUpperCase(Locale.ROOT) + " (ms):",
                        f.get(row[0] + "_ms_" + stat)));
            }
        }
        return b.toString();
    }
}
