package catena.gateway.plan;

import static catena.gateway.plan.Offers.MODEL;
import static catena.gateway.plan.Offers.allAllowed;
import static catena.gateway.plan.Offers.layout;
import static catena.gateway.plan.Offers.w;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class FleetPlannerAssignmentTest {

    private static boolean[] allowedAt(int layers, int... starts) {
        boolean[] allowed = new boolean[layers + 1];
        allowed[0] = true;
        allowed[layers] = true;
        for (int s : starts) {
            allowed[s] = true;
        }
        return allowed;
    }

    static Stream<Arguments> cuts() {
        long[] six = {100, 100, 100, 100, 100, 100};
        return Stream.of(
                // Unrestricted: the balanced cut.
                Arguments.of(six, allAllowed(6), 2, new int[] {0, 3, 6}),
                // Gemma 4 style: layers 1-3 share KV, so a stage may start only at 0, 4 or 5.
                Arguments.of(six, allowedAt(6, 4, 5), 2, new int[] {0, 4, 6}),
                Arguments.of(six, allowedAt(6, 4, 5), 3, new int[] {0, 4, 5, 6}),
                Arguments.of(six, allowedAt(6, 2), 2, new int[] {0, 2, 6}));
    }

    @ParameterizedTest
    @MethodSource("cuts")
    void shouldCutOnlyWhereTheModelAllowsWhenSomeCutsAreForbidden(long[] bytes, boolean[] allowed, int stages,
            int[] expected) {
        FleetPlanner planner = new FleetPlanner(MODEL, bytes, allowed, stages, 1, 0);
        List<WorkerOffer> workers = new ArrayList<>();
        for (int i = 0; i < stages; i++) {
            workers.add(w("w" + i, 10_000));
        }
        FleetPlan plan = planner.plan(workers, null);
        assertThat(plan.bounds()).containsExactly(expected);
        List<Slot> slots = plan.replicas().getFirst().slots();
        for (int s = 0; s < stages; s++) {
            assertThat(slots.get(s).fromLayer()).isEqualTo(expected[s]);
            assertThat(slots.get(s).toLayerExclusive()).isEqualTo(expected[s + 1]);
            assertThat(allowed[slots.get(s).fromLayer()]).isTrue();
        }
    }

    @Test
    void shouldRefuseWithClearMessageWhenModelCannotBeCutIntoThatManyStages() {
        assertThatThrownBy(() -> new FleetPlanner(MODEL, new long[] {1, 1, 1, 1, 1, 1}, allowedAt(6, 4, 5), 4, 1, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stages=4 cannot be cut from this model: a stage may start only at layer 0 or 4, 5, "
                        + "so at most 3 stage(s)");
    }

    static Stream<Arguments> fits() {
        // Stages of 100, 200, 300 B; KV reserve 50 B, so slots need 150, 250, 350 B.
        return Stream.of(
                Arguments.of(List.of(w("a", 350), w("b", 250), w("c", 150)), List.of("r0 e1 0:c 1:b 2:a"), List.of()),
                // One byte short of the heaviest slot: no replica.
                Arguments.of(List.of(w("a", 349), w("b", 250), w("c", 150)), List.of(), List.of("a", "b", "c")),
                // A big worker can take a small slot; the small one cannot take the big slot.
                Arguments.of(List.of(w("a", 150), w("b", 350), w("c", 350)), List.of("r0 e1 0:a 1:c 2:b"), List.of()),
                Arguments.of(List.of(w("a", 150), w("b", 150), w("c", 350)), List.of(), List.of("a", "b", "c")));
    }

    @ParameterizedTest
    @MethodSource("fits")
    void shouldGiveWorkerOnlySlotWhoseBytesPlusKvReserveFitItsMemoryWhenMemoryIsUneven(List<WorkerOffer> workers,
            List<String> expectedLayout, List<String> expectedSpares) {
        FleetPlanner planner = new FleetPlanner(MODEL, new long[] {100, 200, 300}, allAllowed(3), 3, 1, 50);
        FleetPlan plan = planner.plan(workers, null);
        assertThat(layout(plan)).isEqualTo(expectedLayout);
        assertThat(plan.spares()).isEqualTo(expectedSpares);
    }

    static Stream<Arguments> bestFit() {
        // Stages of 100, 200, 300 B, no KV reserve.
        return Stream.of(
                // Heaviest slot first, each to the smallest worker that fits: the 1000 B worker stays a spare.
                Arguments.of(List.of(w("a", 1000), w("b", 300), w("c", 300), w("d", 100)), 1,
                        List.of("r0 e1 0:d 1:c 2:b"), List.of("a")),
                // Ties by id.
                Arguments.of(List.of(w("z", 300), w("y", 300), w("x", 300)), 1,
                        List.of("r0 e1 0:z 1:y 2:x"), List.of()),
                // Best fit keeps big workers for big slots, so a second replica still forms.
                Arguments.of(List.of(w("a", 300), w("b", 300), w("c", 200), w("d", 200), w("e", 100), w("f", 100)), 2,
                        List.of("r0 e1 0:e 1:c 2:a", "r1 e2 0:f 1:d 2:b"), List.of()));
    }

    @ParameterizedTest
    @MethodSource("bestFit")
    void shouldFillHeaviestSlotsFirstWithSmallestFittingSpareWhenFormingReplicas(List<WorkerOffer> workers,
            int replicas, List<String> expectedLayout, List<String> expectedSpares) {
        FleetPlanner planner = new FleetPlanner(MODEL, new long[] {100, 200, 300}, allAllowed(3), 3, replicas, 0);
        FleetPlan plan = planner.plan(workers, null);
        assertThat(layout(plan)).isEqualTo(expectedLayout);
        assertThat(plan.spares()).isEqualTo(expectedSpares);
        assertThat(plan.shortfall()).isEmpty();
    }

    static Stream<Arguments> shortfalls() {
        return Stream.of(
                Arguments.of(List.of(w("a", 340), w("b", 340), w("c", 340)), 1,
                        "replica 0 needs a worker with 350 B for layers [2, 3); spares: a (340 B), b (340 B), c (340 B)"),
                Arguments.of(List.of(w("a", 350), w("b", 350), w("c", 350), w("d", 1_200_000_000L)), 2,
                        "replica 1 needs a worker with 250 B for layers [1, 2); spares: d (1.2 GB)"),
                Arguments.of(List.<WorkerOffer>of(), FleetPlanner.AUTO,
                        "replica 0 needs a worker with 350 B for layers [2, 3); spares: none"));
    }

    @ParameterizedTest
    @MethodSource("shortfalls")
    void shouldSayWhichSlotNoSpareFitsWhenReplicasAreMissing(List<WorkerOffer> workers, int replicas, String shortfall) {
        FleetPlanner planner = new FleetPlanner(MODEL, new long[] {100, 200, 300}, allAllowed(3), 3, replicas, 50);
        assertThat(planner.plan(workers, null).shortfall()).isEqualTo(shortfall);
    }

    @Test
    void shouldGiveSamePlanWhenWorkersArriveInAnotherOrder() {
        FleetPlanner planner = new FleetPlanner(MODEL, new long[] {100, 200, 300}, allAllowed(3), 3, FleetPlanner.AUTO, 0);
        Random random = new Random(7);
        List<WorkerOffer> workers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            workers.add(w("w" + i, 100 + random.nextInt(300)));
        }
        FleetPlan expected = planner.plan(workers, null);
        assertThat(expected.replicas()).isNotEmpty();
        for (int i = 0; i < 10; i++) {
            Collections.shuffle(workers, random);
            assertThat(planner.plan(workers, null)).isEqualTo(expected);
        }
    }

    static Stream<Arguments> badInput() {
        long[] four = {1, 1, 1, 1};
        return Stream.of(
                Arguments.of((Runnable) () -> new FleetPlanner(MODEL, four, allAllowed(4), 2, 0, 0),
                        "replicas=0, expected >= 1 or AUTO (-1)"),
                Arguments.of((Runnable) () -> new FleetPlanner(MODEL, four, allAllowed(4), 2, 1, -1),
                        "kvReserveBytes=-1, expected >= 0"),
                Arguments.of((Runnable) () -> new FleetPlanner(MODEL, four, allAllowed(4), 5, 1, 0),
                        "stages=5, expected 1..4 (the layer count)"),
                Arguments.of((Runnable) () -> new FleetPlanner(MODEL, four, allAllowed(4), 2, 1, 0)
                        .plan(List.of(w("a", 9), w("a", 9)), null),
                        "workers: id=a appears twice, expected unique ids"),
                Arguments.of((Runnable) () -> w("a", -1), "worker a: memoryBytes=-1, expected >= 0"),
                Arguments.of((Runnable) () -> new WorkerOffer("a", 1, 0, null), "worker a: cores=0, expected >= 1"));
    }

    @ParameterizedTest
    @MethodSource("badInput")
    void shouldNameFieldAndValueWhenInputIsBad(Runnable call, String message) {
        assertThatThrownBy(call::run).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }
}
