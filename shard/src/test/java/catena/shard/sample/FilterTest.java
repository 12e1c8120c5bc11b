package catena.shard.sample;

import static catena.shard.sample.Fixtures.kept;
import static catena.shard.sample.Fixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Each filter on a hand-computed distribution. Sorted: id 3 (0.40), 1 (0.30), 0 (0.10), 4 (0.10),
 * 2 (0.05), 5 (0.05); ids 0 and 4 tie, as do 2 and 5, and the lower id ranks first.
 */
class FilterTest {
    static final float[] L = Fixtures.logitsOf(0.10, 0.30, 0.05, 0.40, 0.10, 0.05);

    @Test
    void shouldKeepAllTokensWhenEveryFilterIsOff() {
        assertThat(kept(L, params(1f, 0, 1f, 0f, 0))).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void shouldKeepTheKBestWithLowerIdsWinningTiesWhenTopKIsSet() {
        assertThat(kept(L, params(1f, 1, 1f, 0f, 0))).containsExactly(3);
        assertThat(kept(L, params(1f, 2, 1f, 0f, 0))).containsExactly(1, 3);
        assertThat(kept(L, params(1f, 3, 1f, 0f, 0))).containsExactly(0, 1, 3);
        assertThat(kept(L, params(1f, 5, 1f, 0f, 0))).containsExactly(0, 1, 2, 3, 4);
        assertThat(kept(L, params(1f, 6, 1f, 0f, 0))).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(kept(L, params(1f, 1000, 1f, 0f, 0))).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void shouldKeepTheShortestPrefixReachingPWhenTopPIsSet() {
        assertThat(kept(L, params(1f, 0, 0.1f, 0f, 0))).containsExactly(3);
        assertThat(kept(L, params(1f, 0, 0.65f, 0f, 0))).containsExactly(1, 3);
        // 0.4 + 0.3 + 0.1 (id 0, before its tie 4) = 0.8 reaches 0.75.
        assertThat(kept(L, params(1f, 0, 0.75f, 0f, 0))).containsExactly(0, 1, 3);
        assertThat(kept(L, params(1f, 0, 0.85f, 0f, 0))).containsExactly(0, 1, 3, 4);
        assertThat(kept(L, params(1f, 0, 0.97f, 0f, 0))).containsExactly(0, 1, 2, 3, 4, 5);
    }

    @Test
    void shouldMeasureTopPOverTheTopKSurvivorsWhenBothAreSet() {
        // Over {3, 1} the probabilities are 4/7 = 0.571 and 3/7: 0.55 keeps one, 0.6 needs both.
        assertThat(kept(L, params(1f, 2, 0.55f, 0f, 0))).containsExactly(3);
        assertThat(kept(L, params(1f, 2, 0.6f, 0f, 0))).containsExactly(1, 3);
    }

    @Test
    void shouldKeepTokensAtLeastMinPTimesTheBestWhenMinPIsSet() {
        // Ratios to the best: id 1 0.75, ids 0 and 4 0.25, ids 2 and 5 0.125.
        assertThat(kept(L, params(1f, 0, 1f, 0.1f, 0))).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(kept(L, params(1f, 0, 1f, 0.2f, 0))).containsExactly(0, 1, 3, 4);
        assertThat(kept(L, params(1f, 0, 1f, 0.5f, 0))).containsExactly(1, 3);
        assertThat(kept(L, params(1f, 0, 1f, 0.8f, 0))).containsExactly(3);
        assertThat(kept(L, params(1f, 0, 1f, 1f, 0))).containsExactly(3);
    }

    @Test
    void shouldApplyMinPToWhatTopPLeftWhenBothAreSet() {
        assertThat(kept(L, params(1f, 0, 0.75f, 0.2f, 0))).containsExactly(0, 1, 3);
        assertThat(kept(L, params(1f, 3, 0.97f, 0.5f, 0))).containsExactly(1, 3);
    }

    @Test
    void shouldFilterAtTemperatureOneWhateverTheTemperature() {
        // Temperature comes last in llama.cpp's chain: a hot or cold draw does not widen or narrow top-p.
        assertThat(kept(L, params(5f, 0, 0.65f, 0f, 0))).containsExactly(1, 3);
        assertThat(kept(L, params(0.1f, 0, 0.65f, 0f, 0))).containsExactly(1, 3);
    }

    @Test
    void shouldDrawOnlyKeptTokensWhenSampling() {
        SamplingParams p = params(1f, 0, 0.75f, 0f, 9);
        for (int step = 0; step < 2000; step++) {
            assertThat(Sampler.sample(L, 0, L.length, p, step, Fixtures.NO_HISTORY, 0)).isIn(0, 1, 3);
        }
    }
}
