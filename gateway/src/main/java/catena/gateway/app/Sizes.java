package catena.gateway.app;

/** Parses sizes given on the command line: bytes, or a number with k, m, g (binary units), or "auto". */
final class Sizes {
    private Sizes() {
    }

    /** The size in bytes, or {@link StageSettings#AUTO} for "auto"; a bad value names the option. */
    static long parse(String option, String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("auto")) {
            return StageSettings.AUTO;
        }
        long unit = 1;
        if (v.endsWith("k") || v.endsWith("m") || v.endsWith("g")) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v);
            if (n > 0) {
                return Math.multiplyExact(n, unit);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(option + "=" + value + ", expected a size such as 512m, 2g or 1048576,"
                + " or auto");
    }
}
