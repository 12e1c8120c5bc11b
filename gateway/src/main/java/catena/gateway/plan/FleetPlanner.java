package catena.gateway.plan;

import catena.worker.plan.StagePlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Decides the fleet plan: which worker serves which stage slot of which replica, and which workers
 * are hot spares. Pure and deterministic (the order of the offered workers does not matter);
 * immutable, so thread-safe.
 *
 * <p>Rules, in the order {@link #plan} applies them:
 * <ol>
 *   <li>Start from the replicas of {@code previous}, or, when there is none (first plan, or the
 *       plan owner restarted), from the replicas the workers' holdings describe completely and
 *       consistently (adoption, so a restarted owner reloads nobody). Replicas cut by other bounds
 *       are dropped.
 *   <li>With a fixed replica count, replicas above it are dissolved, highest index first.
 *   <li>A replica whose workers are all present (and still fit) is kept exactly: same slots, same
 *       epoch. A replica that lost workers gets only those slots refilled from the spares (best
 *       fit) and a new epoch; if a slot cannot be refilled, the replica is dissolved and its
 *       remaining workers become spares.
 *   <li>New replicas are formed from the spares, lowest free index first, up to the wanted count
 *       ({@link #AUTO}: as many full replicas as the spares allow). A new replica's slots are
 *       filled heaviest first, each with the smallest-memory spare that fits (ties by id), which
 *       keeps big workers for big slots and fills a replica whenever any assignment could.
 * </ol>
 * A worker gets a slot only if the slot's weight bytes plus the KV reserve fit its memory. A new
 * epoch is 1 + the largest epoch seen (in {@code previous}, including dissolved replicas, and in
 * every holding), so epochs never repeat.
 *
 * <p>The shortfall names the first slot of the next missing replica that no spare fits. With a
 * fixed count it is set whenever replicas are missing; with {@link #AUTO} only when there is no
 * replica at all, or on the plan that dissolved a replica (the next plan drops it again).
 */
public final class FleetPlanner {
    /** Replica count meaning "as many full replicas as the workers allow". */
    public static final int AUTO = -1;

    private final String model;
    private final int[] bounds;
    private final long[] slotBytes;
    private final int replicas;
    private final long kvReserveBytes;

    /**
     * @param model the model path string; holdings of another model do not count
     * @param layerBytes weight bytes per layer
     * @param allowedStarts layers where a stage may start (length layer count + 1), see
     *     {@link StagePlan#split(long[], int, boolean[])}
     * @param stages stages per replica, 1..layer count and cuttable under {@code allowedStarts}
     * @param replicas wanted replicas, >= 1, or {@link #AUTO}
     * @param kvReserveBytes memory a worker needs beyond its slot's weights to be given that slot, >= 0
     * @throws IllegalArgumentException naming the field when the model cannot be cut or a value is out of range
     */
    public FleetPlanner(String model, long[] layerBytes, boolean[] allowedStarts, int stages, int replicas,
            long kvReserveBytes) {
        Objects.requireNonNull(model, "model");
        if (replicas < 1 && replicas != AUTO) {
            throw new IllegalArgumentException("replicas=" + replicas + ", expected >= 1 or AUTO (" + AUTO + ")");
        }
        if (kvReserveBytes < 0) {
            throw new IllegalArgumentException("kvReserveBytes=" + kvReserveBytes + ", expected >= 0");
        }
        this.model = model;
        this.bounds = StagePlan.split(layerBytes, stages, allowedStarts);
        this.slotBytes = new long[stages];
        for (int s = 0; s < stages; s++) {
            for (int layer = bounds[s]; layer < bounds[s + 1]; layer++) {
                slotBytes[s] = Math.addExact(slotBytes[s], layerBytes[layer]);
            }
        }
        this.replicas = replicas;
        this.kvReserveBytes = kvReserveBytes;
    }

    /** The stage boundaries every plan of this planner uses. */
    public int[] bounds() {
        return bounds.clone();
    }

    /** Memory a worker needs for stage {@code stage}: its weight bytes plus the KV reserve. */
    public long neededBytes(int stage) {
        return Math.addExact(slotBytes[stage], kvReserveBytes);
    }

    /**
     * The next plan.
     *
     * @param workers the workers present now (ids unique; any order)
     * @param previous the previous plan of this owner, or null at first or after the owner restarted
     * @return {@code previous} itself when nothing changed; otherwise a plan with version
     *     previous.version + 1 (1 when {@code previous} is null)
     * @throws IllegalArgumentException when two workers share an id
     */
    public FleetPlan plan(List<WorkerOffer> workers, FleetPlan previous) {
        Map<String, WorkerOffer> present = new TreeMap<>();
        long lastEpoch = previous == null ? 0 : previous.lastEpoch();
        for (WorkerOffer w : workers) {
            if (present.put(w.id(), w) != null) {
                throw new IllegalArgumentException("workers: id=" + w.id() + " appears twice, expected unique ids");
            }
            if (w.holding() != null) {
                lastEpoch = Math.max(lastEpoch, w.holding().epoch());
            }
        }
        TreeSet<String> free = new TreeSet<>(present.keySet());

        List<ReplicaPlan> base;
        if (previous == null) {
            base = adopt(present);
        } else if (Arrays.equals(previous.bounds(), bounds)) {
            base = new ArrayList<>(previous.replicas());
        } else {
            base = new ArrayList<>();
        }
        base.sort(Comparator.comparingInt(ReplicaPlan::index));
        for (ReplicaPlan r : base) {
            r.slots().forEach(s -> free.remove(s.workerId()));
        }
        while (replicas != AUTO && base.size() > replicas) {
            ReplicaPlan dropped = base.removeLast();
            releasePresent(dropped.slots(), present, free);
        }

        List<ReplicaPlan> result = new ArrayList<>();
        boolean dissolved = false;
        for (ReplicaPlan r : base) {
            List<Integer> lost = new ArrayList<>();
            for (Slot s : r.slots()) {
                WorkerOffer w = present.get(s.workerId());
                if (w == null || !fits(w, s.stage())) {
                    lost.add(s.stage());
                }
            }
            if (lost.isEmpty()) {
                result.add(r);
                continue;
            }
            List<Slot> kept = new ArrayList<>();
            for (Slot s : r.slots()) {
                if (lost.contains(s.stage())) {
                    if (present.containsKey(s.workerId())) {
                        free.add(s.workerId());
                    }
                } else {
                    kept.add(s);
                }
            }
            Map<Integer, String> refill = fill(lost, present, free);
            if (refill == null) {
                releasePresent(kept, present, free);
                dissolved = true;
                continue;
            }
            Slot[] slots = r.slots().toArray(new Slot[0]);
            refill.forEach((stage, id) -> slots[stage] = slot(stage, id));
            result.add(new ReplicaPlan(r.index(), ++lastEpoch, List.of(slots)));
        }

        String shortfall = null;
        while (replicas == AUTO || result.size() < replicas) {
            int index = lowestFreeIndex(result);
            List<Integer> all = new ArrayList<>();
            for (int s = 0; s < stages(); s++) {
                all.add(s);
            }
            TreeSet<String> before = new TreeSet<>(free);
            Map<Integer, String> picks = fill(all, present, free);
            if (picks == null) {
                if (replicas != AUTO || result.isEmpty() || dissolved) {
                    shortfall = explain(index, before, present);
                }
                break;
            }
            Slot[] slots = new Slot[stages()];
            picks.forEach((stage, id) -> slots[stage] = slot(stage, id));
            result.add(new ReplicaPlan(index, ++lastEpoch, List.of(slots)));
            result.sort(Comparator.comparingInt(ReplicaPlan::index));
        }

        long version = previous == null ? 1 : previous.version();
        FleetPlan same = new FleetPlan(version, bounds, result, List.copyOf(free), shortfall, lastEpoch);
        if (same.equals(previous)) {
            return previous;
        }
        return new FleetPlan(version + (previous == null ? 0 : 1), bounds, result, List.copyOf(free), shortfall,
                lastEpoch);
    }

    /**
     * Replicas described completely and consistently by the holdings: same model, this planner's
     * bounds, exactly one fitting worker per stage under one (replica, epoch). Where two complete
     * groups claim one replica index, the higher epoch wins; every other holding is ignored.
     */
    private List<ReplicaPlan> adopt(Map<String, WorkerOffer> present) {
        Map<String, List<WorkerOffer>> groups = new TreeMap<>();
        for (WorkerOffer w : present.values()) {
            Holding h = w.holding();
            if (h != null && h.model().equals(model) && h.replica() >= 0 && h.stage() >= 0 && h.stage() < stages()
                    && h.fromLayer() == bounds[h.stage()] && h.toLayerExclusive() == bounds[h.stage() + 1]
                    && fits(w, h.stage())) {
                groups.computeIfAbsent(h.replica() + "/" + h.epoch(), k -> new ArrayList<>()).add(w);
            }
        }
        Map<Integer, ReplicaPlan> byIndex = new HashMap<>();
        for (List<WorkerOffer> group : groups.values()) {
            Slot[] slots = new Slot[stages()];
            boolean consistent = group.size() == stages();
            for (WorkerOffer w : group) {
                int stage = w.holding().stage();
                consistent &= slots[stage] == null;
                slots[stage] = slot(stage, w.id());
            }
            if (!consistent) {
                continue;
            }
            Holding h = group.getFirst().holding();
            ReplicaPlan candidate = new ReplicaPlan(h.replica(), h.epoch(), List.of(slots));
            byIndex.merge(h.replica(), candidate, (a, b) -> a.epoch() >= b.epoch() ? a : b);
        }
        return new ArrayList<>(byIndex.values());
    }

    /**
     * Best fit for {@code stages}, heaviest first (ties by stage), each taking the smallest-memory
     * free worker that fits (ties by id). Takes the picks out of {@code free}; on failure puts
     * them back and returns null.
     */
    private Map<Integer, String> fill(List<Integer> stages, Map<String, WorkerOffer> present, TreeSet<String> free) {
        List<Integer> order = new ArrayList<>(stages);
        order.sort(Comparator.comparingLong((Integer s) -> slotBytes[s]).reversed().thenComparingInt(s -> s));
        Map<Integer, String> picks = new TreeMap<>();
        for (int stage : order) {
            String best = null;
            for (String id : free) {
                WorkerOffer w = present.get(id);
                if (fits(w, stage) && (best == null || w.memoryBytes() < present.get(best).memoryBytes())) {
                    best = id;
                }
            }
            if (best == null) {
                free.addAll(picks.values());
                return null;
            }
            free.remove(best);
            picks.put(stage, best);
        }
        return picks;
    }

    /** Names the first slot (heaviest first) no free worker fits, and the free workers with their memory. */
    private String explain(int index, TreeSet<String> free, Map<String, WorkerOffer> present) {
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < stages(); s++) {
            order.add(s);
        }
        order.sort(Comparator.comparingLong((Integer s) -> slotBytes[s]).reversed().thenComparingInt(s -> s));
        TreeSet<String> left = new TreeSet<>(free);
        int missing = order.getFirst();
        for (int stage : order) {
            Map<Integer, String> one = fill(List.of(stage), present, left);
            if (one == null) {
                missing = stage;
                break;
            }
        }
        String spares = free.isEmpty() ? "none" : free.stream()
                .map(id -> id + " (" + formatBytes(present.get(id).memoryBytes()) + ")")
                .collect(Collectors.joining(", "));
        return "replica " + index + " needs a worker with " + formatBytes(neededBytes(missing)) + " for layers ["
                + bounds[missing] + ", " + bounds[missing + 1] + "); spares: " + spares;
    }

    private static void releasePresent(List<Slot> slots, Map<String, WorkerOffer> present, TreeSet<String> free) {
        for (Slot s : slots) {
            if (present.containsKey(s.workerId())) {
                free.add(s.workerId());
            }
        }
    }

    private static int lowestFreeIndex(List<ReplicaPlan> replicas) {
        int index = 0;
        while (true) {
            int candidate = index;
            if (replicas.stream().noneMatch(r -> r.index() == candidate)) {
                return index;
            }
            index++;
        }
    }

    private boolean fits(WorkerOffer w, int stage) {
        return neededBytes(stage) <= w.memoryBytes();
    }

    private Slot slot(int stage, String workerId) {
        return new Slot(stage, bounds[stage], bounds[stage + 1], workerId);
    }

    private int stages() {
        return slotBytes.length;
    }

    /** Decimal units with one digit, e.g. "1.2 GB", "512 B". */
    static String formatBytes(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"KB", "MB", "GB", "TB", "PB", "EB"};
        double value = bytes;
        int unit = -1;
        while (value >= 999.95 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
