package catena.gateway.session;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that might be the start of a stop string is held
 * back until it is clear either way, so the client never sees any part of a stop string.
 * Not thread-safe (one per session).
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds streamed text; returns the text that can be sent now. */
    String accept(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        int cut = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) {
            hold = Math.max(hold, overlap(s));
        }
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** True once a stop string was found. */
    boolean stopped() {
        return stopped;
    }

    /** The text held back, at the end of a generation that did not stop on a stop string. */
    String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest suffix of the pending text that is a proper prefix of {@code stop}. */
    private int overlap(String stop) {
        int max = Math.min(stop.length() - 1, pending.length());
        String tail = pending.substring(pending.length() - max);
        for (int k = max; k > 0; k--) {
            if (tail.regionMatches(max - k, stop, 0, k)) {
                return k;
            }
        }
        return 0;
    }
}
