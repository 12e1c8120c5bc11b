package catena.gateway.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArrivalPlanTest {

    @ParameterizedTest
    @ValueSource(doubles = {0.5, 1.0, 4.0})
    void shouldArriveAtTheRequestedMeanRateWhateverTheBurstiness(double burstiness) {
        long[] t = ArrivalPlan.times(20_000, 10.0, burstiness, 7);
        double seconds = t[t.length - 1] / 1e9;
        // 19,999 gaps of mean 0.1 s: the mean's relative standard error is under 1.5% for these shapes.
        assertThat(t.length / seconds).isBetween(9.5, 10.5);
        for (int i = 1; i < t.length; i++) {
            assertThat(t[i]).isGreaterThanOrEqualTo(t[i - 1]);
        }
    }

    @Test
    void shouldBeBurstierWithASmallerShape() {
        assertThat(cv(ArrivalPlan.times(20_000, 10.0, 0.25, 3))).isGreaterThan(1.5);
        assertThat(cv(ArrivalPlan.times(20_000, 10.0, 1.0, 3))).isBetween(0.9, 1.1);
        assertThat(cv(ArrivalPlan.times(20_000, 10.0, 16.0, 3))).isLessThan(0.4);
    }

    private static double cv(long[] t) {
        int n = t.length - 1;
        double mean = t[n] / (double) n;
        double sq = 0;
        for (int i = 1; i <= n; i++) {
            double d = (t[i] - t[i - 1]) - mean;
            sq += d * d;
        }
        return Math.sqrt(sq / n) / mean;
    }

    @Test
    void shouldSendEverythingAtOnceWithAnInfiniteRateAndRefuseBadArguments() {
        assertThat(ArrivalPlan.times(5, Double.POSITIVE_INFINITY, 1, 1)).containsOnly(0L);
        assertThat(ArrivalPlan.times(50, 3, 1, 9)).containsExactly(ArrivalPlan.times(50, 3, 1, 9));
        assertThatThrownBy(() -> ArrivalPlan.times(5, 0, 1, 1)).hasMessageContaining("--request-rate=0.0");
        assertThatThrownBy(() -> ArrivalPlan.times(5, 1, -1, 1)).hasMessageContaining("--burstiness=-1.0");
    }

    @Test
    void shouldShareThePrefixAndDrawTheRestInRange() {
        var prompts = PromptSet.make(3, 10, 4, 100, 200, 5);
        for (int[] p : prompts) {
            assertThat(p).hasSize(10);
            assertThat(java.util.Arrays.copyOf(p, 4)).containsExactly(java.util.Arrays.copyOf(prompts.get(0), 4));
            assertThat(java.util.Arrays.stream(p).allMatch(id -> id >= 100 && id < 200)).isTrue();
        }
        assertThat(prompts.get(0)).isNotEqualTo(prompts.get(1));
        assertThatThrownBy(() -> PromptSet.make(1, 4, 5, 0, 10, 1)).hasMessageContaining("--prefix-len=5");
    }
}
