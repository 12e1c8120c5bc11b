package catena.gateway.scaling;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Turns the stages' reports, taken at regular intervals, into {@link ScalingSignals}.
 *
 * <p>Queue time is how long, without a break, some stage of the fleet has had sequences waiting
 * for admission (its KV memory full): the stages report how many wait, not since when, so this is
 * the age of the queue rather than of its oldest entry; both grow without bound exactly when
 * arrivals outpace what the fleet admits. KV usage is the highest used/total block fraction of any
 * loaded stage. Active sequences are the most any one stage holds plus every waiting one: a
 * lower bound of the fleet's sequences that is zero exactly when the fleet is idle, which is all
 * the scaler asks of it.
 *
 * <p>Not thread-safe: one owner feeds it.
 */
public final class FleetSignals {
    private Instant queuedSince;

    /** The signals at {@code now} from the stages' latest {@code loads} and the pool's {@code workerCount}. */
    public ScalingSignals observe(Instant now, List<StageLoad> loads, int workerCount) {
        int waiting = 0;
        int sequences = 0;
        double kv = 0;
        for (StageLoad l : loads) {
            waiting += l.waiting();
            sequences = Math.max(sequences, l.sequences());
            if (l.kvBlocksTotal() > 0) {
                kv = Math.max(kv, (double) l.kvBlocksUsed() / l.kvBlocksTotal());
            }
        }
        queuedSince = waiting == 0 ? null : queuedSince == null ? now : queuedSince;
        Duration queueTime = queuedSince == null ? Duration.ZERO : Duration.between(queuedSince, now);
        return new ScalingSignals(now, queueTime, kv, sequences + waiting, workerCount);
    }
}
