package catena.gateway.bench;

/**
 * A service-level objective for goodput: a request counts when its time to first token and its
 * time per output token are within the limits (a limit of 0 is no limit). Parsed from
 * {@code ttft:MS,tpot:MS} (either part may be left out).
 */
public record Goodput(double ttftMillis, double tpotMillis) {
    public static final Goodput NONE = new Goodput(0, 0);

    public static Goodput parse(String spec) {
        double ttft = 0;
        double tpot = 0;
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split(":");
            if (kv.length != 2) {
                throw new IllegalArgumentException("--goodput=" + spec + ": expected ttft:MS,tpot:MS");
            }
            double ms;
            try {
                ms = Double.parseDouble(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--goodput=" + spec + ": '" + kv[1] + "' is not a number of ms");
            }
            if (!(ms > 0)) {
                throw new IllegalArgumentException("--goodput=" + spec + ": limits must be > 0 ms");
            }
            switch (kv[0].trim()) {
                case "ttft" -> ttft = ms;
                case "tpot" -> tpot = ms;
                default -> throw new IllegalArgumentException("--goodput=" + spec + ": unknown metric '" + kv[0]
                        + "', expected ttft or tpot");
            }
        }
        return new Goodput(ttft, tpot);
    }

    public boolean meets(RequestRecord r) {
        if (!r.ok() || r.outputTokens() == 0) {
            return false;
        }
        if (ttftMillis > 0 && r.ttftNanos() / 1e6 > ttftMillis) {
            return false;
        }
        return !(tpotMillis > 0 && r.tpotNanos() >= 0 && r.tpotNanos() / 1e6 > tpotMillis);
    }

    public boolean isSet() {
        return ttftMillis > 0 || tpotMillis > 0;
    }
}
