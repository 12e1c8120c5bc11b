package catena.gateway.plan;

import catena.worker.plan.StagePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Assigns workers to replica × stage slots. The stage cut is fixed by the model (balanced by bytes,
 * only at legal cut points); a worker gets a slot only if the slot's weights plus the KV reserve
 * fit its memory. Stable: a replica whose workers are all present is kept as it is (same epoch),
 * so a worker joining or a spare leaving moves nothing; a replica that lost a worker has only that
 * slot refilled from the spares (new epoch), or is dissolved into spares when none fits. New
 * replicas take the heaviest slots first, each to the smallest spare that fits (best fit: big
 * workers stay for big slots). With no previous plan (a new plan owner), complete and consistent
 * holdings reported by the workers are adopted as they are, so nobody reloads. Epochs never
 * repeat: a new one is one more than any seen. Pure: the same inputs give the same plan.
 */
public final class FleetPlanner {
    /** {@code replicas} value: as many full replicas as the workers allow. */
    public static final int AUTO = -1;

    private final String model;
    private final long[] layerBytes;
    private final int stages;
    private final int replicas;
    private final long kvReserveBytes;
    private final int[] bounds;
    private final long[] slotBytes;

    /**
     * {@code model}: holdings of another model do not count; {@code replicas}: >= 1 or
     * {@link #AUTO}; {@code kvReserveBytes}: memory a worker needs beyond its slot's weights.
     */
    public FleetPlanner(String model, long[] layerBytes, boolean[] allowedStarts, int stages, int replicas,
                        long kvReserveBytes) {
        if (replicas < 1 && replicas != AUTO) {
            throw new IllegalArgumentException("replicas=" + replicas + ", expected >= 1 or auto");
        }
        this.model = model;
        this.layerBytes = layerBytes.clone();
        this.stages = stages;
        this.replicas = replicas;
        this.kvReserveBytes = kvReserveBytes;
        this.bounds = StagePlan.split(layerBytes, stages, allowedStarts);
        this.slotBytes = new long[stages];
        for (int s = 0; s < stages; s++) {
            for (int l = bounds[s]; l < bounds[s + 1]; l++) {
                slotBytes[s] += layerBytes[l];
            }
        }
    }

    /** Stage boundaries: stage i holds layers [bounds[i], bounds[i+1]). */
    public int[] bounds() {
        return bounds.clone();
    }

    /** Memory a worker needs for stage {@code s}'s slot. */
    public long needs(int s) {
        return slotBytes[s] + kvReserveBytes;
    }

    /** The next plan from the workers present now and the previous plan (null at first or after the owner restarted). */
    public FleetPlan plan(List<WorkerOffer> workers, FleetPlan previous) {
        Map<String, WorkerOffer> present = new TreeMap<>();
        for (WorkerOffer w : workers) {
            present.put(w.id(), w);
        }
        long epoch = maxEpoch(workers, previous);
        List<ReplicaPlan> kept = new ArrayList<>();
        Set<String> used = new HashSet<>();
        List<String> shortfall = new ArrayList<>();
        if (previous != null) {
            Set<String> reserved = new HashSet<>();
            for (ReplicaPlan r : previous.replicas()) {
                for (Slot s : r.slots()) {
                    if (present.containsKey(s.workerId())) {
                        reserved.add(s.workerId());
                    }
                }
            }
            for (ReplicaPlan r : previous.replicas()) {
                List<Slot> slots = new ArrayList<>(r.slots());
                boolean changed = false;
                boolean whole = true;
                for (int i = 0; i < slots.size(); i++) {
                    Slot s = slots.get(i);
                    if (present.containsKey(s.workerId())) {
                        continue;
                    }
                    WorkerOffer w = bestFit(present, used, reserved, s.stage());
                    if (w == null) {
                        whole = false;
                        shortfall.add("replica " + r.index() + " lost the worker of stage " + s.stage()
                                + " and no spare has " + gb(needs(s.stage())) + " for layers [" + s.fromLayer() + ", "
                                + s.toLayerExclusive() + ")" + free(present, used, reserved));
                        break;
                    }
                    slots.set(i, new Slot(s.stage(), s.fromLayer(), s.toLayerExclusive(), w.id()));
                    used.add(w.id());
                    changed = true;
                }
                if (!whole) {
                    // Dissolved: replacements picked so far and the survivors become spares.
                    for (int i = 0; i < slots.size(); i++) {
                        String original = r.slots().get(i).workerId();
                        if (!slots.get(i).workerId().equals(original)) {
                            used.remove(slots.get(i).workerId());
                        }
                        reserved.remove(original);
                    }
                    continue;
                }
                for (Slot s : slots) {
                    used.add(s.workerId());
                }
                kept.add(changed ? new ReplicaPlan(r.index(), ++epoch, slots) : r);
            }
        } else {
            kept.addAll(adopt(present, used));
        }
        int wanted = replicas == AUTO ? Integer.MAX_VALUE : replicas;
        kept.sort(Comparator.comparingInt(ReplicaPlan::index));
        while (kept.size() > wanted) {
            ReplicaPlan dropped = kept.removeLast();
            for (Slot s : dropped.slots()) {
                used.remove(s.workerId());
            }
        }
        while (kept.size() < wanted) {
            List<Slot> slots = fill(present, used);
            if (slots == null) {
                if (replicas != AUTO) {
                    shortfall.add((wanted - kept.size()) + " of " + wanted + " replica(s) missing: a replica needs "
                            + stages + " worker(s) with " + needsText() + free(present, used, Set.of()));
                }
                break;
            }
            for (Slot s : slots) {
                used.add(s.workerId());
            }
            kept.add(new ReplicaPlan(lowestFreeIndex(kept), ++epoch, slots));
            kept.sort(Comparator.comparingInt(ReplicaPlan::index));
        }
        List<String> spares = new ArrayList<>();
        for (String id : present.keySet()) {
            if (!used.contains(id)) {
                spares.add(id);
            }
        }
        FleetPlan next = new FleetPlan(previous == null ? 1 : previous.version() + 1, bounds, kept, spares,
                String.join("; ", shortfall));
        return next.sameAs(previous) ? previous : next;
    }

    /** Replicas whose holdings are complete and consistent: one worker per stage, same replica, epoch and bounds. */
    private List<ReplicaPlan> adopt(Map<String, WorkerOffer> present, Set<String> used) {
        Map<Integer, Map<Long, Map<Integer, List<WorkerOffer>>>> groups = new TreeMap<>();
        for (WorkerOffer w : present.values()) {
            Holding h = w.holding();
            if (h == null || !model.equals(h.model()) || h.replica() < 0 || h.stage() < 0 || h.stage() >= stages
                    || h.fromLayer() != bounds[h.stage()] || h.toLayerExclusive() != bounds[h.stage() + 1]) {
                continue;
            }
            groups.computeIfAbsent(h.replica(), k -> new TreeMap<>()).computeIfAbsent(h.epoch(), k -> new HashMap<>())
                    .computeIfAbsent(h.stage(), k -> new ArrayList<>()).add(w);
        }
        List<ReplicaPlan> adopted = new ArrayList<>();
        for (var byReplica : groups.entrySet()) {
            // The newest complete epoch of a replica index wins.
            for (var byEpoch : ((TreeMap<Long, Map<Integer, List<WorkerOffer>>>) byReplica.getValue())
                    .descendingMap().entrySet()) {
                Map<Integer, List<WorkerOffer>> byStage = byEpoch.getValue();
                boolean complete = byStage.size() == stages;
                for (List<WorkerOffer> l : byStage.values()) {
                    complete &= l.size() == 1;
                }
                if (!complete) {
                    continue;
                }
                List<Slot> slots = new ArrayList<>();
                for (int s = 0; s < stages; s++) {
                    String id = byStage.get(s).getFirst().id();
                    slots.add(new Slot(s, bounds[s], bounds[s + 1], id));
                    used.add(id);
                }
                adopted.add(new ReplicaPlan(byReplica.getKey(), byEpoch.getKey(), slots));
                break;
            }
        }
        return adopted;
    }

    /** Slots of a new replica from the free workers, heaviest slot first, best fit; null if they do not suffice. */
    private List<Slot> fill(Map<String, WorkerOffer> present, Set<String> used) {
        Integer[] order = new Integer[stages];
        for (int s = 0; s < stages; s++) {
            order[s] = s;
        }
        java.util.Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : slotBytes[b] != slotBytes[a]
                ? Long.compare(slotBytes[b], slotBytes[a]) : Integer.compare(a, b));
        Set<String> taken = new HashSet<>(used);
        Slot[] slots = new Slot[stages];
        for (int s : order) {
            WorkerOffer w = bestFit(present, taken, Set.of(), s);
            if (w == null) {
                return null;
            }
            taken.add(w.id());
            slots[s] = new Slot(s, bounds[s], bounds[s + 1], w.id());
        }
        return List.of(slots);
    }

    /** The free worker with the least memory that still fits stage {@code s}; ties by id. */
    private WorkerOffer bestFit(Map<String, WorkerOffer> present, Set<String> used, Set<String> reserved, int s) {
        WorkerOffer best = null;
        for (WorkerOffer w : present.values()) {
            if (used.contains(w.id()) || reserved.contains(w.id()) || w.memoryBytes() < needs(s)) {
                continue;
            }
            if (best == null || w.memoryBytes() < best.memoryBytes()) {
                best = w;
            }
        }
        return best;
    }

    private static int lowestFreeIndex(List<ReplicaPlan> replicas) {
        Set<Integer> taken = new HashSet<>();
        for (ReplicaPlan r : replicas) {
            taken.add(r.index());
        }
        int i = 0;
        while (taken.contains(i)) {
            i++;
        }
        return i;
    }

    private static long maxEpoch(List<WorkerOffer> workers, FleetPlan previous) {
        long max = 0;
        for (WorkerOffer w : workers) {
            if (w.holding() != null) {
                max = Math.max(max, w.holding().epoch());
            }
        }
        if (previous != null) {
            for (ReplicaPlan r : previous.replicas()) {
                max = Math.max(max, r.epoch());
            }
        }
        return max;
    }

    private String needsText() {
        StringBuilder b = new StringBuilder();
        for (int s = 0; s < stages; s++) {
            b.append(s == 0 ? "" : ", ").append(gb(needs(s))).append(" (layers [").append(bounds[s]).append(", ")
                    .append(bounds[s + 1]).append("))");
        }
        return b.toString();
    }

    private static String free(Map<String, WorkerOffer> present, Set<String> used, Set<String> reserved) {
        StringBuilder b = new StringBuilder();
        for (WorkerOffer w : present.values()) {
            if (!used.contains(w.id()) && !reserved.contains(w.id())) {
                b.append(b.isEmpty() ? "" : ", ").append(w.id()).append(" (").append(gb(w.memoryBytes())).append(')');
            }
        }
        return b.isEmpty() ? "; no free worker" : "; free: " + b;
    }

    private static String gb(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
