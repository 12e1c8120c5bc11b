package catena.gateway.plan;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The fleet: every replica with its workers, and the hot spares. Immutable; safe to share between
 * threads and to publish.
 *
 * @param version grows by one with every change made by the same plan owner (starts at 1)
 * @param bounds stage boundaries: stage i holds layers [bounds[i], bounds[i+1])
 * @param replicas the replicas, by ascending index (indexes may have gaps)
 * @param spares hot spares (worker ids, ascending)
 * @param shortfall why replicas are missing when fewer than wanted, a message a person can act on;
 *     empty when nothing is missing (null is taken as empty)
 * @param lastEpoch the largest epoch issued or seen so far, also counting replicas since
 *     dissolved, so a new epoch is never a reused one
 */
public record FleetPlan(long version, int[] bounds, List<ReplicaPlan> replicas, List<String> spares, String shortfall,
        long lastEpoch) {

    public FleetPlan {
        bounds = bounds.clone();
        replicas = List.copyOf(replicas);
        spares = List.copyOf(spares);
        shortfall = shortfall == null ? "" : shortfall;
        Set<String> seen = new HashSet<>();
        for (ReplicaPlan replica : replicas) {
            if (replica.slots().size() != bounds.length - 1) {
                throw new IllegalArgumentException("replica " + replica.index() + ": slots=" + replica.slots().size()
                        + ", expected " + (bounds.length - 1) + " (one per stage)");
            }
            if (replica.epoch() > lastEpoch) {
                throw new IllegalArgumentException("replica " + replica.index() + ": epoch=" + replica.epoch()
                        + ", expected <= lastEpoch=" + lastEpoch);
            }
            for (Slot slot : replica.slots()) {
                if (slot.fromLayer() != bounds[slot.stage()] || slot.toLayerExclusive() != bounds[slot.stage() + 1]) {
                    throw new IllegalArgumentException("replica " + replica.index() + " stage " + slot.stage()
                            + ": layers [" + slot.fromLayer() + ", " + slot.toLayerExclusive() + "), expected ["
                            + bounds[slot.stage()] + ", " + bounds[slot.stage() + 1] + ") from bounds");
                }
                if (!seen.add(slot.workerId())) {
                    throw new IllegalArgumentException("worker " + slot.workerId() + " has two places in the plan, "
                            + "expected at most one");
                }
            }
        }
        for (String spare : spares) {
            if (!seen.add(spare)) {
                throw new IllegalArgumentException("worker " + spare + " has two places in the plan, expected at most one");
            }
        }
    }

    /** A plan whose {@code lastEpoch} is the largest epoch among its replicas (0 when none). */
    public FleetPlan(long version, int[] bounds, List<ReplicaPlan> replicas, List<String> spares, String shortfall) {
        this(version, bounds, replicas, spares, shortfall,
                replicas.stream().mapToLong(ReplicaPlan::epoch).max().orElse(0));
    }

    @Override
    public int[] bounds() {
        return bounds.clone();
    }

    /** The stage count (bounds length - 1). */
    public int stages() {
        return bounds.length - 1;
    }

    /** The replica with this index, empty if there is none. */
    public Optional<ReplicaPlan> replica(int index) {
        return replicas.stream().filter(r -> r.index() == index).findFirst();
    }

    /** The replica in which {@code workerId} serves a slot, empty if it serves none. */
    public Optional<ReplicaPlan> replicaOf(String workerId) {
        return replicas.stream().filter(r -> r.slotOf(workerId).isPresent()).findFirst();
    }

    /** The slot {@code workerId} serves, empty if it serves none. */
    public Optional<Slot> slotOf(String workerId) {
        return replicaOf(workerId).flatMap(r -> r.slotOf(workerId));
    }

    /** Whether {@code workerId} is a hot spare in this plan. */
    public boolean isSpare(String workerId) {
        return spares.contains(workerId);
    }

    /**
     * One line for logs, e.g. {@code plan v3 bounds [0, 4, 8]: replica 0 epoch 2 [w1 0-4, w2 4-8];
     * spares [w5]}.
     */
    public String describe() {
        String rs = replicas.stream()
                .map(r -> "replica " + r.index() + " epoch " + r.epoch() + " " + r.slots().stream()
                        .map(s -> s.workerId() + " " + s.fromLayer() + "-" + s.toLayerExclusive())
                        .collect(Collectors.joining(", ", "[", "]")))
                .collect(Collectors.joining("; "));
        return "plan v" + version + " bounds " + Arrays.toString(bounds) + ": "
                + (rs.isEmpty() ? "no replica" : rs) + "; spares " + spares
                + (shortfall.isEmpty() ? "" : "; shortfall: " + shortfall);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FleetPlan p && version == p.version && lastEpoch == p.lastEpoch
                && Arrays.equals(bounds, p.bounds) && replicas.equals(p.replicas) && spares.equals(p.spares)
                && Objects.equals(shortfall, p.shortfall);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, Arrays.hashCode(bounds), replicas, spares, shortfall, lastEpoch);
    }

    @Override
    public String toString() {
        return "FleetPlan[version=" + version + ", bounds=" + Arrays.toString(bounds) + ", replicas=" + replicas
                + ", spares=" + spares + ", shortfall=" + shortfall + ", lastEpoch=" + lastEpoch + "]";
    }
}
