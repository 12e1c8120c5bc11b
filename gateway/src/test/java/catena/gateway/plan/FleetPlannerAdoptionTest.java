package catena.gateway.plan;

import static catena.gateway.plan.Offers.MODEL;
import static catena.gateway.plan.Offers.held;
import static catena.gateway.plan.Offers.layout;
import static catena.gateway.plan.Offers.uniform;
import static catena.gateway.plan.Offers.w;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** previous == null: the plan owner restarted and finds workers that already hold layers. */
class FleetPlannerAdoptionTest {

    static Stream<Arguments> holdings() {
        return Stream.of(
                Arguments.of("complete replica 0 under epoch 5 is adopted as it is",
                        List.of(held("a", 300, MODEL, 0, 2, 0, 0, 5), held("b", 300, MODEL, 2, 4, 0, 1, 5),
                                w("c", 300), w("d", 300)),
                        List.of("r0 e5 0:a 1:b", "r1 e6 0:c 1:d")),
                Arguments.of("an adopted replica keeps its index 1; the new one takes free index 0",
                        List.of(held("a", 300, MODEL, 0, 2, 1, 0, 5), held("b", 300, MODEL, 2, 4, 1, 1, 5),
                                w("c", 300), w("d", 300)),
                        List.of("r0 e6 0:c 1:d", "r1 e5 0:a 1:b")),
                Arguments.of("two complete replicas are both adopted, nobody reloads",
                        List.of(held("a", 300, MODEL, 0, 2, 0, 0, 5), held("b", 300, MODEL, 2, 4, 0, 1, 5),
                                held("c", 300, MODEL, 0, 2, 1, 0, 8), held("d", 300, MODEL, 2, 4, 1, 1, 8)),
                        List.of("r0 e5 0:a 1:b", "r1 e8 0:c 1:d")),
                Arguments.of("another model does not count",
                        List.of(held("a", 300, "/models/other.gguf", 0, 2, 0, 0, 5),
                                held("b", 300, "/models/other.gguf", 2, 4, 0, 1, 5), w("c", 300), w("d", 300)),
                        List.of("r0 e6 0:a 1:b", "r1 e7 0:c 1:d")),
                Arguments.of("other bounds do not count",
                        List.of(held("a", 300, MODEL, 0, 1, 0, 0, 5), held("b", 300, MODEL, 1, 4, 0, 1, 5),
                                w("c", 300), w("d", 300)),
                        List.of("r0 e6 0:a 1:b", "r1 e7 0:c 1:d")),
                Arguments.of("mixed epochs do not count",
                        List.of(held("c", 300, MODEL, 0, 2, 0, 0, 5), held("d", 300, MODEL, 2, 4, 0, 1, 6),
                                w("a", 300), w("b", 300)),
                        List.of("r0 e7 0:a 1:b", "r1 e8 0:c 1:d")),
                Arguments.of("a missing stage does not count",
                        List.of(held("c", 300, MODEL, 0, 2, 0, 0, 5), w("a", 300), w("b", 300), w("d", 300)),
                        List.of("r0 e6 0:a 1:b", "r1 e7 0:c 1:d")),
                Arguments.of("two workers claiming one stage do not count",
                        List.of(held("c", 300, MODEL, 0, 2, 0, 0, 5), held("d", 300, MODEL, 2, 4, 0, 1, 5),
                                held("e", 300, MODEL, 0, 2, 0, 0, 5), w("a", 300), w("b", 300)),
                        List.of("r0 e6 0:a 1:b", "r1 e7 0:c 1:d")),
                Arguments.of("a holder whose memory no longer fits does not count",
                        List.of(held("c", 300, MODEL, 0, 2, 0, 0, 5), held("d", 200, MODEL, 2, 4, 0, 1, 5),
                                w("a", 300), w("b", 300)),
                        List.of("r0 e6 0:a 1:b")),
                Arguments.of("of two complete replicas claiming index 0, the later epoch wins",
                        List.of(held("a", 300, MODEL, 0, 2, 0, 0, 5), held("b", 300, MODEL, 2, 4, 0, 1, 5),
                                held("c", 300, MODEL, 0, 2, 0, 0, 7), held("d", 300, MODEL, 2, 4, 0, 1, 7)),
                        List.of("r0 e7 0:c 1:d", "r1 e8 0:a 1:b")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("holdings")
    void shouldAdoptOnlyCompleteConsistentReplicasWhenPlanOwnerRestarted(String rule, List<WorkerOffer> workers,
            List<String> expectedLayout) {
        FleetPlan plan = uniform(2).plan(workers, null);
        assertThat(layout(plan)).isEqualTo(expectedLayout);
        assertThat(plan.version()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("holdings")
    void shouldIssueEpochsAboveEveryHeldEpochWhenAdopting(String rule, List<WorkerOffer> workers,
            List<String> expectedLayout) {
        FleetPlan plan = uniform(2).plan(workers, null);
        long held = workers.stream().filter(o -> o.holding() != null).mapToLong(o -> o.holding().epoch()).max()
                .orElse(0);
        for (ReplicaPlan r : plan.replicas()) {
            boolean adopted = r.slots().stream().allMatch(s -> workers.stream()
                    .anyMatch(o -> o.id().equals(s.workerId()) && o.holding() != null
                            && o.holding().epoch() == r.epoch()));
            assertThat(adopted || r.epoch() > held).as("replica %d epoch %d", r.index(), r.epoch()).isTrue();
        }
        assertThat(plan.lastEpoch()).isGreaterThanOrEqualTo(held);
    }

    static Stream<Arguments> fewer() {
        return Stream.of(
                Arguments.of(1, List.of("r0 e5 0:a 1:b"), List.of("c", "d")),
                Arguments.of(2, List.of("r0 e5 0:a 1:b", "r3 e8 0:c 1:d"), List.of()));
    }

    @ParameterizedTest
    @MethodSource("fewer")
    void shouldDissolveHighestAdoptedIndexWhenMoreReplicasAreHeldThanWanted(int replicas, List<String> expectedLayout,
            List<String> spares) {
        List<WorkerOffer> workers = List.of(held("a", 300, MODEL, 0, 2, 0, 0, 5), held("b", 300, MODEL, 2, 4, 0, 1, 5),
                held("c", 300, MODEL, 0, 2, 3, 0, 8), held("d", 300, MODEL, 2, 4, 3, 1, 8));
        FleetPlan plan = uniform(replicas).plan(workers, null);
        assertThat(layout(plan)).isEqualTo(expectedLayout);
        assertThat(plan.spares()).isEqualTo(spares);
    }
}
