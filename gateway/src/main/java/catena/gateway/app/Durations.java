package catena.gateway.app;

import java.time.Duration;
import java.util.Locale;

/** Durations on the command line: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}. */
final class Durations {
    private Durations() {
    }

    /** The duration of {@code value}; a bad value names {@code option}. */
    static Duration parse(String option, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            long n = Long.parseLong(v.substring(0, Math.max(0, v.length() - 1)));
            switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
                case 's':
                    return Duration.ofSeconds(n);
                case 'm':
                    return Duration.ofMinutes(n);
                case 'h':
                    return Duration.ofHours(n);
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(option + "=" + value + ", expected a duration such as 500ms, 30s, 10m"
                + " or 1h");
    }
}
