package catena.worker.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class StagePlanTest {

    @Test
    void shouldGiveEveryLayerToExactlyOneNonEmptyStageForAnyStageCount() {
        Random random = new Random(42);
        for (int layers = 1; layers <= 12; layers++) {
            long[] bytes = new long[layers];
            for (int i = 0; i < layers; i++) {
                bytes[i] = 1 + random.nextInt(1000);
            }
            for (int stages = 1; stages <= layers; stages++) {
                int[] b = StagePlan.split(bytes, stages);
                assertThat(b).hasSize(stages + 1);
                assertThat(b[0]).isZero();
                assertThat(b[stages]).isEqualTo(layers);
                for (int i = 0; i < stages; i++) {
                    assertThat(b[i + 1]).isGreaterThan(b[i]);
                }
            }
        }
    }

    @Test
    void shouldBalanceByBytesWhenLayersDifferInSize() {
        // One heavy layer at the end: a split by layer count would put 2 light + ... together.
        long[] bytes = {10, 10, 10, 10, 40};
        assertThat(StagePlan.split(bytes, 2)).containsExactly(0, 4, 5);
        assertThat(StagePlan.split(new long[] {5, 5, 5, 5}, 2)).containsExactly(0, 2, 4);
    }

    @Test
    void shouldRefuseMoreStagesThanLayers() {
        assertThatThrownBy(() -> StagePlan.split(new long[] {1, 2}, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stages=3, expected 1..2 (the layer count)");
    }

    @Test
    void shouldCutOnlyWhereAStageMayStart() {
        long[] bytes = {10, 10, 10, 10, 10, 30};
        boolean[] allowed = {true, true, false, false, false, true, true};
        assertThat(StagePlan.split(bytes, 2, allowed)).containsExactly(0, 5, 6);
        assertThat(StagePlan.split(bytes, 3, allowed)).containsExactly(0, 1, 5, 6);
        assertThatThrownBy(() -> StagePlan.split(bytes, 4, allowed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stages=4 cannot be cut from this model: a stage may start only at layer 0 or 1, 5,"
                        + " so at most 3 stage(s)");
    }
}
