package catena.gateway.plan;

import static catena.gateway.plan.Offers.layout;
import static catena.gateway.plan.Offers.plus;
import static catena.gateway.plan.Offers.same;
import static catena.gateway.plan.Offers.uniform;
import static catena.gateway.plan.Offers.w;
import static catena.gateway.plan.Offers.without;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Slots are 200 B, a worker needs 250 B for one (see {@link Offers#uniform}). */
class FleetPlannerStabilityTest {
    private static final List<WorkerOffer> FIVE = same(300, "w1", "w2", "w3", "w4", "w5");

    @Test
    void shouldFormReplicasInIndexOrderAndLeaveRestAsSparesWhenFirstPlanned() {
        FleetPlan plan = uniform(2).plan(FIVE, null);
        assertThat(layout(plan)).containsExactly("r0 e1 0:w1 1:w2", "r1 e2 0:w3 1:w4");
        assertThat(plan.spares()).containsExactly("w5");
        assertThat(plan.version()).isEqualTo(1);
        assertThat(plan.lastEpoch()).isEqualTo(2);
        assertThat(plan.shortfall()).isEmpty();
    }

    static Stream<Arguments> harmless() {
        return Stream.of(
                Arguments.of("a big worker joins", (UnaryOperator<List<WorkerOffer>>) ws -> plus(ws, w("a0", 1_000_000)),
                        List.of("a0", "w5")),
                Arguments.of("a small worker joins", (UnaryOperator<List<WorkerOffer>>) ws -> plus(ws, w("a0", 10)),
                        List.of("a0", "w5")),
                Arguments.of("the spare leaves", (UnaryOperator<List<WorkerOffer>>) ws -> without(ws, "w5"), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("harmless")
    void shouldMoveNoSlotWhenWorkerJoinsOrSpareLeaves(String change, UnaryOperator<List<WorkerOffer>> edit,
            List<String> spares) {
        FleetPlanner planner = uniform(2);
        FleetPlan before = planner.plan(FIVE, null);
        FleetPlan after = planner.plan(edit.apply(FIVE), before);
        assertThat(after.replicas()).isEqualTo(before.replicas());
        assertThat(after.spares()).isEqualTo(spares);
        assertThat(after.version()).isEqualTo(before.version() + 1);
    }

    @Test
    void shouldKeepExistingReplicasAndAddOneWhenAutoAndEnoughWorkersJoin() {
        FleetPlanner planner = uniform(FleetPlanner.AUTO);
        FleetPlan before = planner.plan(FIVE, null);
        FleetPlan after = planner.plan(plus(FIVE, w("w6", 300)), before);
        assertThat(layout(after)).containsExactly("r0 e1 0:w1 1:w2", "r1 e2 0:w3 1:w4", "r2 e3 0:w5 1:w6");
        assertThat(after.spares()).isEmpty();
        assertThat(after.shortfall()).isEmpty();
    }

    static Stream<Arguments> losses() {
        return Stream.of(
                // Only the lost slot is refilled from the spare; the replica gets a new epoch.
                Arguments.of(FIVE, List.of("w3"), List.of("r0 e1 0:w1 1:w2", "r1 e3 0:w5 1:w4"), List.of(), ""),
                Arguments.of(FIVE, List.of("w2"), List.of("r0 e3 0:w1 1:w5", "r1 e2 0:w3 1:w4"), List.of(), ""),
                // Both of a replica's workers lost, two spares: same index, new epoch.
                Arguments.of(plus(FIVE, w("w6", 300)), List.of("w3", "w4"),
                        List.of("r0 e1 0:w1 1:w2", "r1 e3 0:w5 1:w6"), List.of(), ""),
                // No spare left: the replica is dissolved, its other worker becomes a spare.
                Arguments.of(FIVE, List.of("w3", "w5"), List.of("r0 e1 0:w1 1:w2"), List.of("w4"),
                        "replica 1 needs a worker with 250 B for layers [2, 4); spares: w4 (300 B)"),
                // The spare is too small for the slot: dissolved as well.
                Arguments.of(plus(without(FIVE, "w5"), w("w5", 249)), List.of("w3"), List.of("r0 e1 0:w1 1:w2"),
                        List.of("w4", "w5"),
                        "replica 1 needs a worker with 250 B for layers [2, 4); spares: w4 (300 B), w5 (249 B)"));
    }

    @ParameterizedTest
    @MethodSource("losses")
    void shouldRefillOnlyLostSlotOrDissolveReplicaWhenReplicaLosesWorker(List<WorkerOffer> workers, List<String> lost,
            List<String> expectedLayout, List<String> expectedSpares, String shortfall) {
        FleetPlanner planner = uniform(2);
        FleetPlan before = planner.plan(workers, null);
        FleetPlan after = planner.plan(without(workers, lost.toArray(String[]::new)), before);
        assertThat(layout(after)).isEqualTo(expectedLayout);
        assertThat(after.spares()).isEqualTo(expectedSpares);
        assertThat(after.shortfall()).isEqualTo(shortfall);
        assertThat(after.version()).isEqualTo(2);
    }

    @Test
    void shouldTreatSlotAsLostWhenItsWorkerRejoinsWithLessMemory() {
        FleetPlanner planner = uniform(2);
        FleetPlan before = planner.plan(FIVE, null);
        FleetPlan after = planner.plan(plus(without(FIVE, "w1"), w("w1", 100)), before);
        assertThat(layout(after)).containsExactly("r0 e3 0:w5 1:w2", "r1 e2 0:w3 1:w4");
        assertThat(after.spares()).containsExactly("w1");
    }

    @Test
    void shouldDissolveHighestIndexReplicasWhenFewerReplicasAreWanted() {
        FleetPlan three = uniform(3).plan(plus(FIVE, w("w6", 300)), null);
        FleetPlan one = uniform(1).plan(plus(FIVE, w("w6", 300)), three);
        assertThat(layout(one)).containsExactly("r0 e1 0:w1 1:w2");
        assertThat(one.spares()).containsExactly("w3", "w4", "w5", "w6");
        assertThat(one.shortfall()).isEmpty();
    }

    @Test
    void shouldGiveNewReplicaLowestFreeIndexWhenLowerIndexWasDissolved() {
        FleetPlanner planner = uniform(2);
        List<WorkerOffer> four = same(300, "w1", "w2", "w3", "w4");
        FleetPlan full = planner.plan(four, null);
        FleetPlan broken = planner.plan(without(four, "w1"), full);
        assertThat(layout(broken)).containsExactly("r1 e2 0:w3 1:w4");
        assertThat(broken.shortfall()).isEqualTo("replica 0 needs a worker with 250 B for layers [2, 4); spares: w2 (300 B)");
        FleetPlan healed = planner.plan(plus(without(four, "w1"), w("w9", 300)), broken);
        // Epoch 2 was issued, so is epoch 1 of the dissolved replica: the new one gets 3, never a reused one.
        assertThat(layout(healed)).containsExactly("r0 e3 0:w2 1:w9", "r1 e2 0:w3 1:w4");
        assertThat(healed.shortfall()).isEmpty();
    }

    @Test
    void shouldNeverReissueEpochWhenReplicaWithLargestEpochWasDissolved() {
        FleetPlanner planner = uniform(2);
        List<WorkerOffer> four = same(300, "w1", "w2", "w3", "w4");
        FleetPlan full = planner.plan(four, null);
        FleetPlan broken = planner.plan(without(four, "w4"), full);
        assertThat(layout(broken)).containsExactly("r0 e1 0:w1 1:w2");
        assertThat(broken.lastEpoch()).isEqualTo(2);
        FleetPlan healed = planner.plan(plus(without(four, "w4"), w("w9", 300)), broken);
        assertThat(layout(healed)).containsExactly("r0 e1 0:w1 1:w2", "r1 e3 0:w3 1:w9");
    }

    @Test
    void shouldReturnPreviousPlanWhenNothingChanged() {
        FleetPlanner planner = uniform(3);
        FleetPlan first = planner.plan(FIVE, null);
        assertThat(first.shortfall()).isNotEmpty();
        FleetPlan again = planner.plan(List.copyOf(FIVE).reversed(), first);
        assertThat(again).isSameAs(first);
        assertThat(again.version()).isEqualTo(1);
        FleetPlan changed = planner.plan(without(FIVE, "w5"), first);
        assertThat(changed.version()).isEqualTo(2);
        assertThat(planner.plan(without(FIVE, "w5"), changed)).isEqualTo(changed);
    }

    @Test
    void shouldReportDissolutionOnceWhenAutoKeepsOtherReplicas() {
        FleetPlanner planner = uniform(FleetPlanner.AUTO);
        List<WorkerOffer> four = same(300, "w1", "w2", "w3", "w4");
        FleetPlan full = planner.plan(four, null);
        FleetPlan broken = planner.plan(without(four, "w4"), full);
        assertThat(broken.shortfall()).isEqualTo("replica 1 needs a worker with 250 B for layers [2, 4); spares: w3 (300 B)");
        FleetPlan settled = planner.plan(without(four, "w4"), broken);
        assertThat(settled.shortfall()).isEmpty();
        assertThat(settled.replicas()).isEqualTo(broken.replicas());
        assertThat(settled.version()).isEqualTo(broken.version() + 1);
        assertThat(planner.plan(without(four, "w4"), settled)).isSameAs(settled);
    }

    @Test
    void shouldDropReplicasCutByOtherBoundsWhenStageCountChanged() {
        FleetPlan twoStages = uniform(1).plan(FIVE, null);
        FleetPlanner four = new FleetPlanner(Offers.MODEL, new long[] {100, 100, 100, 100}, Offers.allAllowed(4), 4, 1, 50);
        FleetPlan plan = four.plan(FIVE, twoStages);
        assertThat(layout(plan)).containsExactly("r0 e2 0:w1 1:w2 2:w3 3:w4");
        assertThat(plan.bounds()).containsExactly(0, 1, 2, 3, 4);
    }

    /**
     * Random joins and leaves: every plan is legal (slots fit, each present worker exactly once),
     * joins and spare departures move no slot, and an epoch always names the same replica.
     */
    @Test
    void shouldStayLegalAndStableWhenWorkersComeAndGoAtRandom() {
        Random random = new Random(11);
        for (int replicas : new int[] {FleetPlanner.AUTO, 1, 2, 3}) {
            FleetPlanner planner = new FleetPlanner(Offers.MODEL, new long[] {100, 300, 200, 100, 100},
                    Offers.allAllowed(5), 3, replicas, 20);
            Map<String, WorkerOffer> present = new HashMap<>();
            Map<Long, ReplicaPlan> epochs = new HashMap<>();
            FleetPlan plan = null;
            int next = 0;
            for (int step = 0; step < 300; step++) {
                boolean join = present.isEmpty() || random.nextInt(3) > 0 && present.size() < 14;
                String leaving = null;
                if (join) {
                    String id = "w" + next++;
                    present.put(id, w(id, 100 + random.nextInt(400)));
                } else {
                    List<String> ids = new ArrayList<>(present.keySet());
                    leaving = ids.get(random.nextInt(ids.size()));
                    present.remove(leaving);
                }
                FleetPlan before = plan;
                plan = planner.plan(new ArrayList<>(present.values()), before);
                List<String> placed = new ArrayList<>(plan.spares());
                for (ReplicaPlan r : plan.replicas()) {
                    ReplicaPlan earlier = epochs.putIfAbsent(r.epoch(), r);
                    assertThat(earlier == null || earlier.equals(r)).as("epoch %d reused", r.epoch()).isTrue();
                    for (Slot s : r.slots()) {
                        placed.add(s.workerId());
                        assertThat(present.get(s.workerId()).memoryBytes()).isGreaterThanOrEqualTo(
                                planner.neededBytes(s.stage()));
                    }
                }
                assertThat(placed).containsExactlyInAnyOrderElementsOf(present.keySet());
                if (before != null && (join || before.isSpare(leaving))) {
                    assertThat(plan.replicas()).containsAll(before.replicas());
                }
            }
        }
    }
}
