package catena.gateway.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Test helpers that build worker offers. */
final class Offers {
    static final String MODEL = "/models/m.gguf";

    private Offers() {
    }

    static WorkerOffer w(String id, long memoryBytes) {
        return new WorkerOffer(id, memoryBytes, 1, null);
    }

    static WorkerOffer held(String id, long memoryBytes, String model, int from, int to, int replica, int stage,
            long epoch) {
        return new WorkerOffer(id, memoryBytes, 1, new Holding(model, from, to, replica, stage, epoch));
    }

    static List<WorkerOffer> same(long memoryBytes, String... ids) {
        return Arrays.stream(ids).map(id -> w(id, memoryBytes)).toList();
    }

    static List<WorkerOffer> plus(List<WorkerOffer> workers, WorkerOffer... more) {
        List<WorkerOffer> all = new ArrayList<>(workers);
        all.addAll(List.of(more));
        return all;
    }

    static List<WorkerOffer> without(List<WorkerOffer> workers, String... ids) {
        List<String> gone = List.of(ids);
        return workers.stream().filter(w -> !gone.contains(w.id())).toList();
    }

    static boolean[] allAllowed(int layers) {
        boolean[] allowed = new boolean[layers + 1];
        Arrays.fill(allowed, true);
        return allowed;
    }

    /** Four layers of 100 B in two stages of 200 B; a slot needs 250 B with the 50 B KV reserve. */
    static FleetPlanner uniform(int replicas) {
        return new FleetPlanner(MODEL, new long[] {100, 100, 100, 100}, allAllowed(4), 2, replicas, 50);
    }

    /** "stage:worker" per slot of each replica, e.g. [r0 e1 0:w1 1:w2], for compact assertions. */
    static List<String> layout(FleetPlan plan) {
        return plan.replicas().stream()
                .map(r -> "r" + r.index() + " e" + r.epoch() + " " + String.join(" ",
                        r.slots().stream().map(s -> s.stage() + ":" + s.workerId()).toList()))
                .toList();
    }
}
