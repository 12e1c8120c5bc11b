package catena.gateway.plan;

import java.util.Arrays;
import java.util.List;

/**
 * The fleet: a version that grows with every change, the stage boundaries (stage i holds layers
 * [bounds[i], bounds[i+1])), the replicas by index, the hot spares (worker ids), and why fewer
 * replicas serve than wanted ("" when none is missing).
 */
public record FleetPlan(long version, int[] bounds, List<ReplicaPlan> replicas, List<String> spares, String shortfall) {
    public FleetPlan {
        bounds = bounds.clone();
        replicas = List.copyOf(replicas);
        spares = List.copyOf(spares);
    }

    /** The replica {@code workerId} serves in, or null. */
    public ReplicaPlan replicaOf(String workerId) {
        for (ReplicaPlan r : replicas) {
            if (r.has(workerId)) {
                return r;
            }
        }
        return null;
    }

    public boolean isSpare(String workerId) {
        return spares.contains(workerId);
    }

    /** A line for logs. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (ReplicaPlan r : replicas) {
            b.append("replica ").append(r.index()).append(" (epoch ").append(r.epoch()).append("): ");
            for (Slot s : r.slots()) {
                b.append('[').append(s.fromLayer()).append(',').append(s.toLayerExclusive()).append(")@")
                        .append(s.workerId()).append(' ');
            }
            b.append("; ");
        }
        b.append(spares.size()).append(" spare(s)");
        if (!shortfall.isEmpty()) {
            b.append("; ").append(shortfall);
        }
        return b.toString();
    }

    /** Same replicas, spares and shortfall (the version aside). */
    public boolean sameAs(FleetPlan o) {
        return o != null && Arrays.equals(bounds, o.bounds) && replicas.equals(o.replicas) && spares.equals(o.spares)
                && shortfall.equals(o.shortfall);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FleetPlan p && version == p.version && sameAs(p);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(version) * 31 + replicas.hashCode();
    }

    @Override
    public String toString() {
        return "FleetPlan[v" + version + ": " + describe() + "]";
    }
}
