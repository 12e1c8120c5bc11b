package catena.it.runc;

/**
 * The kubelet's verdict from a probe's checks: false at the start (as readiness is), true after
 * {@code successThreshold} passing checks in a row, false again after {@code failureThreshold}
 * failing checks in a row; a check that does not complete a run leaves the verdict as it was.
 */
final class ProbeState {
    private final int successThreshold;
    private final int failureThreshold;
    private boolean state;
    private int successes;
    private int failures;

    ProbeState(int successThreshold, int failureThreshold) {
        if (successThreshold < 1 || failureThreshold < 1) {
            throw new IllegalArgumentException("probe thresholds must be at least 1: successThreshold="
                    + successThreshold + ", failureThreshold=" + failureThreshold);
        }
        this.successThreshold = successThreshold;
        this.failureThreshold = failureThreshold;
    }

    /** Counts one check; the verdict after it. */
    boolean record(boolean passed) {
        if (passed) {
            failures = 0;
            if (++successes >= successThreshold) {
                state = true;
            }
        } else {
            successes = 0;
            if (++failures >= failureThreshold) {
                state = false;
            }
        }
        return state;
    }

    boolean state() {
        return state;
    }
}
