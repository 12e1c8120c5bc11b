package catena.gateway.app;

import java.time.Duration;
import java.util.Locale;

/** Durations on the command line: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}. */
final class Durations {
    private Durations() {
    }

    /** Longest duration accepted: a year is beyond any timeout or interval, and far from overflow. */
    static final Duration MAX = Duration.ofDays(366);

    /** The duration of {@code value} (0 to a year); a bad value names {@code option}. */
    static Duration parse(String option, String value) {
        Duration d = unchecked(value.trim().toLowerCase(Locale.ROOT));
        if (d == null || d.isNegative() || d.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(option + "=" + value + ", expected a duration from 0 to 366 days such"
                    + " as 500ms, 30s, 10m or 1h");
        }
        return d;
    }

    private static Duration unchecked(String v) {
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            long n = Long.parseLong(v.substring(0, Math.max(0, v.length() - 1)));
            return switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> null;
            };
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }
}
