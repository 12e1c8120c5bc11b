package catena.gateway.plan;

import static catena.gateway.plan.Offers.same;
import static catena.gateway.plan.Offers.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The FleetPlan helpers the actors use, and its value semantics. */
class FleetPlannerPlanValueTest {
    private static final FleetPlan PLAN = uniform(2).plan(same(300, "w1", "w2", "w3", "w4", "w5"), null);

    static Stream<Arguments> lookups() {
        return Stream.of(
                Arguments.of("w1", 0, 0, false),
                Arguments.of("w4", 1, 1, false),
                Arguments.of("w5", -1, -1, true),
                Arguments.of("nobody", -1, -1, false));
    }

    @ParameterizedTest
    @MethodSource("lookups")
    void shouldFindReplicaSlotAndSpareWhenAskedByWorkerId(String id, int replica, int stage, boolean spare) {
        assertThat(PLAN.replicaOf(id).map(ReplicaPlan::index).orElse(-1)).isEqualTo(replica);
        assertThat(PLAN.slotOf(id).map(Slot::stage).orElse(-1)).isEqualTo(stage);
        assertThat(PLAN.isSpare(id)).isEqualTo(spare);
    }

    @Test
    void shouldDescribeEveryReplicaAndSpareInOneLineWhenLogged() {
        assertThat(PLAN.describe()).isEqualTo("plan v1 bounds [0, 2, 4]: replica 0 epoch 1 [w1 0-2, w2 2-4]; "
                + "replica 1 epoch 2 [w3 0-2, w4 2-4]; spares [w5]");
        assertThat(uniform(1).plan(List.of(), null).describe()).isEqualTo("plan v1 bounds [0, 2, 4]: no replica; "
                + "spares []; shortfall: replica 0 needs a worker with 250 B for layers [0, 2); spares: none");
    }

    @Test
    void shouldBeEqualWhenBoundsAreEqualArraysInOtherInstances() {
        FleetPlan copy = new FleetPlan(PLAN.version(), PLAN.bounds(), PLAN.replicas(), PLAN.spares(), PLAN.shortfall(),
                PLAN.lastEpoch());
        assertThat(copy).isEqualTo(PLAN).hasSameHashCodeAs(PLAN);
        assertThat(copy.toString()).contains("bounds=[0, 2, 4]");
        assertThat(new FleetPlan(PLAN.version(), PLAN.bounds(), PLAN.replicas(), PLAN.spares(), PLAN.shortfall()))
                .isEqualTo(PLAN);
        int[] leaked = PLAN.bounds();
        leaked[1] = 3;
        assertThat(PLAN.bounds()).containsExactly(0, 2, 4);
    }

    @Test
    void shouldRefuseWorkerInTwoPlacesWhenPlanIsBuilt() {
        assertThatThrownBy(() -> new FleetPlan(1, PLAN.bounds(), PLAN.replicas(), List.of("w1"), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("worker w1 has two places in the plan, expected at most one");
    }
}
