package catena.gateway.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetPlannerTest {
    private static final long GB = 1_000_000_000L;
    /** Four layers of 1 GB: two stages of 2 GB. */
    private static final long[] LAYERS = {GB, GB, GB, GB};
    private static final boolean[] ANY = {true, true, true, true, true};

    private static FleetPlanner planner(int replicas) {
        return new FleetPlanner("m.gguf", LAYERS, ANY, 2, replicas, 0);
    }

    private static List<WorkerOffer> workers(long... memory) {
        List<WorkerOffer> w = new ArrayList<>();
        for (int i = 0; i < memory.length; i++) {
            w.add(new WorkerOffer("w" + i, memory[i], 2, null));
        }
        return w;
    }

    private static List<String> ids(ReplicaPlan r) {
        return r.slots().stream().map(Slot::workerId).toList();
    }

    @Test
    void shouldMakeTwoReplicasAndOneSpareWhenFiveWorkersJoin() {
        FleetPlan p = planner(2).plan(workers(3 * GB, 3 * GB, 3 * GB, 3 * GB, 3 * GB), null);
        assertThat(p.replicas()).hasSize(2);
        assertThat(p.replicas().get(0).index()).isZero();
        assertThat(p.replicas().get(1).index()).isEqualTo(1);
        assertThat(p.spares()).hasSize(1);
        assertThat(p.bounds()).containsExactly(0, 2, 4);
        assertThat(p.shortfall()).isEmpty();
        assertThat(p.replicas().get(0).epoch()).isNotEqualTo(p.replicas().get(1).epoch());
    }

    @Test
    void shouldMakeAsManyReplicasAsFitWhenReplicasIsAuto() {
        FleetPlan p = planner(FleetPlanner.AUTO).plan(workers(3 * GB, 3 * GB, 3 * GB, 3 * GB, 3 * GB), null);
        assertThat(p.replicas()).hasSize(2);
        assertThat(p.spares()).hasSize(1);
        assertThat(p.shortfall()).isEmpty();
    }

    @Test
    void shouldMoveNoSlotWhenAWorkerJoinsOrASpareLeaves() {
        FleetPlanner planner = planner(2);
        List<WorkerOffer> five = workers(3 * GB, 3 * GB, 3 * GB, 3 * GB, 3 * GB);
        FleetPlan p = planner.plan(five, null);
        List<WorkerOffer> six = new ArrayList<>(five);
        six.add(new WorkerOffer("w9", 3 * GB, 2, null));
        FleetPlan joined = planner.plan(six, p);
        assertThat(joined.replicas()).isEqualTo(p.replicas());
        assertThat(joined.spares()).hasSize(2);
        List<WorkerOffer> spareGone = new ArrayList<>(five);
        spareGone.removeIf(w -> p.spares().contains(w.id()));
        FleetPlan left = planner.plan(spareGone, p);
        assertThat(left.replicas()).isEqualTo(p.replicas());
        assertThat(left.spares()).isEmpty();
    }

    @Test
    void shouldReturnTheSamePlanWhenNothingChanged() {
        FleetPlanner planner = planner(2);
        List<WorkerOffer> five = workers(3 * GB, 3 * GB, 3 * GB, 3 * GB, 3 * GB);
        FleetPlan p = planner.plan(five, null);
        assertThat(planner.plan(five, p)).isSameAs(p);
    }

    @Test
    void shouldRefillOnlyTheSlotOfTheLostWorkerWithTheSpareUnderANewEpoch() {
        FleetPlanner planner = planner(2);
        List<WorkerOffer> five = workers(3 * GB, 3 * GB, 3 * GB, 3 * GB, 3 * GB);
        FleetPlan p = planner.plan(five, null);
        ReplicaPlan broken = p.replicas().get(1);
        String lost = broken.slots().get(1).workerId();
        String spare = p.spares().getFirst();
        List<WorkerOffer> four = new ArrayList<>(five);
        four.removeIf(w -> w.id().equals(lost));
        FleetPlan q = planner.plan(four, p);
        assertThat(q.version()).isEqualTo(p.version() + 1);
        assertThat(q.replicas().get(0)).isEqualTo(p.replicas().get(0));
        ReplicaPlan repaired = q.replicas().get(1);
        assertThat(repaired.index()).isEqualTo(1);
        assertThat(repaired.epoch()).isGreaterThan(Math.max(p.replicas().get(0).epoch(), broken.epoch()));
        assertThat(repaired.slots().get(0)).isEqualTo(broken.slots().get(0));
        assertThat(repaired.slots().get(1).workerId()).isEqualTo(spare);
        assertThat(q.spares()).isEmpty();
    }

    @Test
    void shouldDissolveAReplicaIntoSparesWhenNoSpareCanReplaceItsLostWorker() {
        FleetPlanner planner = planner(2);
        List<WorkerOffer> four = workers(3 * GB, 3 * GB, 3 * GB, 3 * GB);
        FleetPlan p = planner.plan(four, null);
        String lost = p.replicas().get(1).slots().get(0).workerId();
        String survivor = p.replicas().get(1).slots().get(1).workerId();
        List<WorkerOffer> three = new ArrayList<>(four);
        three.removeIf(w -> w.id().equals(lost));
        FleetPlan q = planner.plan(three, p);
        assertThat(q.replicas()).containsExactly(p.replicas().get(0));
        assertThat(q.spares()).containsExactly(survivor);
        assertThat(q.shortfall()).contains("replica 1 lost the worker of stage 0");
    }

    @Test
    void shouldGiveNoWorkerASlotWhoseWeightsDoNotFitItsMemory() {
        // Stage slots need 2 GB + 0.5 GB reserve; the 1 GB worker fits none.
        FleetPlanner planner = new FleetPlanner("m.gguf", LAYERS, ANY, 2, 2, GB / 2);
        FleetPlan p = planner.plan(workers(GB, 3 * GB, 3 * GB, 3 * GB), null);
        assertThat(p.replicas()).hasSize(1);
        assertThat(p.spares()).contains("w0");
        assertThat(p.shortfall()).contains("1 of 2 replica(s) missing").contains("w0 (1.00 GB)");
    }

    @Test
    void shouldGiveTheHeaviestSlotToTheSmallestWorkerThatFitsWhenMemoryIsUneven() {
        // Layers 3,1 GB: stage 0 = [0,1) 3 GB, stage 1 = [1,2) 1 GB (two stages of a two-layer model).
        FleetPlanner planner = new FleetPlanner("m.gguf", new long[] {3 * GB, GB}, new boolean[] {true, true, true}, 2,
                1, 0);
        FleetPlan p = planner.plan(List.of(new WorkerOffer("big", 8 * GB, 2, null),
                new WorkerOffer("mid", 4 * GB, 2, null), new WorkerOffer("small", GB + 1, 2, null)), null);
        assertThat(ids(p.replicas().getFirst())).containsExactly("mid", "small");
        assertThat(p.spares()).containsExactly("big");
    }

    @Test
    void shouldNeverCutWhereTheModelForbids() {
        // Layers 1 and 2 may not start a stage (KV sharing): the only two-stage cut is at 3.
        boolean[] allowed = {true, false, false, true, true};
        FleetPlanner planner = new FleetPlanner("m.gguf", LAYERS, allowed, 2, 1, 0);
        FleetPlan p = planner.plan(workers(9 * GB, 9 * GB), null);
        assertThat(p.bounds()).containsExactly(0, 3, 4);
        assertThat(p.replicas().getFirst().slots().get(0).toLayerExclusive()).isEqualTo(3);
        assertThatThrownBy(() -> new FleetPlanner("m.gguf", LAYERS, new boolean[] {true, false, false, false, true}, 2,
                1, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be cut");
    }

    @Test
    void shouldAdoptCompleteHoldingsWithTheirEpochsWhenTheOwnerRestarts() {
        List<WorkerOffer> w = List.of(
                new WorkerOffer("a", 3 * GB, 2, new Holding("m.gguf", 0, 2, 0, 0, 7)),
                new WorkerOffer("b", 3 * GB, 2, new Holding("m.gguf", 2, 4, 0, 1, 7)),
                new WorkerOffer("c", 3 * GB, 2, new Holding("m.gguf", 0, 2, 1, 0, 9)),
                new WorkerOffer("d", 3 * GB, 2, new Holding("m.gguf", 2, 4, 1, 1, 9)),
                new WorkerOffer("e", 3 * GB, 2, null));
        FleetPlan p = planner(2).plan(w, null);
        assertThat(p.replicas()).hasSize(2);
        assertThat(p.replicas().get(0).epoch()).isEqualTo(7);
        assertThat(ids(p.replicas().get(0))).containsExactly("a", "b");
        assertThat(p.replicas().get(1).epoch()).isEqualTo(9);
        assertThat(ids(p.replicas().get(1))).containsExactly("c", "d");
        assertThat(p.spares()).containsExactly("e");
    }

    @Test
    void shouldIgnoreInconsistentHoldingsAndNeverRepeatAnEpoch() {
        List<WorkerOffer> w = List.of(
                new WorkerOffer("a", 3 * GB, 2, new Holding("m.gguf", 0, 2, 0, 0, 7)),
                new WorkerOffer("b", 3 * GB, 2, new Holding("other.gguf", 2, 4, 0, 1, 7)),
                new WorkerOffer("c", 3 * GB, 2, new Holding("m.gguf", 0, 1, 1, 0, 12)));
        FleetPlan p = planner(1).plan(w, null);
        assertThat(p.replicas()).hasSize(1);
        assertThat(p.replicas().getFirst().epoch()).isEqualTo(13);
    }

    @Test
    void shouldDissolveTheHighestIndexWhenFewerReplicasAreWanted() {
        FleetPlan p = planner(2).plan(workers(3 * GB, 3 * GB, 3 * GB, 3 * GB), null);
        FleetPlan q = planner(1).plan(workers(3 * GB, 3 * GB, 3 * GB, 3 * GB), p);
        assertThat(q.replicas()).containsExactly(p.replicas().getFirst());
        assertThat(q.spares()).hasSize(2);
        assertThat(Arrays.asList(q.spares().toArray())).doesNotContainAnyElementsOf(ids(q.replicas().getFirst()));
    }
}
