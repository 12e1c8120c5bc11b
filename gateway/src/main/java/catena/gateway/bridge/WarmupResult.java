package catena.gateway.bridge;

import java.time.Duration;

/**
 * What a transport's warm-up calls to its own endpoint did: how many calls, how many failed (and
 * the first failure, null if none), how long they took.
 */
public record WarmupResult(String transport, int calls, int failed, Duration took, String firstProblem) {

    /** Counts a warm-up's calls as they end; one per transport's run, used by one thread. */
    public static final class Tally {
        private final String transport;
        private final long startNanos = System.nanoTime();
        private int calls;
        private int failed;
        private String firstProblem;

        public Tally(String transport) {
            this.transport = transport;
        }

        /** A call ended: {@code problem} null if it succeeded, else what went wrong. */
        public void ended(String problem) {
            calls++;
            if (problem != null) {
                failed++;
                firstProblem = firstProblem == null ? problem : firstProblem;
            }
        }

        /** The result so far, timed from this tally's creation. */
        public WarmupResult result() {
            return new WarmupResult(transport, calls, failed, Duration.ofNanos(System.nanoTime() - startNanos),
                    firstProblem);
        }
    }
}
