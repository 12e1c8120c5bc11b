package catena.shard.sample;

import static catena.shard.sample.Fixtures.NO_HISTORY;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GreedyTest {
    @Test
    void shouldTakeTheLowestIdWhenLogitsTie() {
        float[] l = {1f, 3f, 2f, 3f};
        assertThat(Sampler.sample(l, 0, 4, SamplingParams.GREEDY, 0, NO_HISTORY, 0)).isEqualTo(1);
    }

    @Test
    void shouldTreatNegativeAndPositiveZeroAsATie() {
        float[] l = {-1f, -0f, 0f};
        assertThat(Sampler.sample(l, 0, 3, SamplingParams.GREEDY, 0, NO_HISTORY, 0)).isEqualTo(1);
    }

    @Test
    void shouldReturnAnIdRelativeToTheOffset() {
        float[] l = {9f, 9f, 0f, 1f, 5f, 9f};
        assertThat(Sampler.sample(l, 2, 3, SamplingParams.GREEDY, 0, NO_HISTORY, 0)).isEqualTo(2);
    }

    @Test
    void shouldBeGreedyWhenTemperatureIsZeroWhateverTheFiltersAndSeed() {
        float[] l = Fixtures.gaussian(50_000, 2, 3);
        int best = Sampler.argmax(l, 0, l.length);
        SamplingParams p = Fixtures.params(0f, 5, 0.5f, 0.2f, 77);
        for (int step = 0; step < 20; step++) {
            assertThat(Sampler.sample(l, 0, l.length, p, step, NO_HISTORY, 0)).isEqualTo(best);
        }
    }
}
