package catena.gateway.scaling;

import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

/**
 * Applies {@link ReplicaScaler}'s decisions to a {@link WorkerPool}: reads the pool's size, takes
 * the spares out (hot spares beyond the replicas are kept as configured, never scaled), asks the
 * scaler, and resizes the pool when the number of whole replicas changes. A pool whose size is not
 * a whole number of replicas (someone scaled it by hand) is left as it is until a decision changes
 * the replica count.
 *
 * <p>Not thread-safe: one owner calls it, off any actor's thread (the pool calls block).
 */
public final class PoolScaler {
    private final ScalingPolicy policy;
    private final int spares;
    private final WorkerPool pool;
    private final FleetSignals signals = new FleetSignals();
    private final ReplicaScaler scaler;

    public PoolScaler(ScalingPolicy policy, int spares, WorkerPool pool) {
        if (spares < 0) {
            throw new IllegalArgumentException("pool scaler: spares=" + spares + ", expected >= 0");
        }
        this.policy = policy;
        this.spares = spares;
        this.pool = pool;
        this.scaler = new ReplicaScaler(policy);
    }

    /**
     * One observation: returns the size the pool was set to, or empty when it was left alone.
     *
     * @param now the observation's time (never before the previous one)
     * @param loads the latest report of every stage in the fleet
     */
    public OptionalInt observe(Instant now, List<StageLoad> loads) {
        int size = pool.replicas();
        int workers = Math.max(0, size - spares);
        int desired = scaler.observe(signals.observe(now, loads, workers));
        if (desired / policy.stages() == workers / policy.stages()) {
            return OptionalInt.empty();
        }
        pool.scaleTo(desired + spares);
        return OptionalInt.of(desired + spares);
    }
}
