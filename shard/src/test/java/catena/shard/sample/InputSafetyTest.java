package catena.shard.sample;

import static catena.shard.sample.Fixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class InputSafetyTest {
    @Test
    void shouldLeaveTheCallersLogitsUntouchedOnEveryPath() {
        int vocab = 262_144;
        float[] l = Fixtures.gaussian(vocab + 10, 3, 21);
        float[] before = l.clone();
        int[] history = {5, 6, 5, 100_000, 262_143};
        List<SamplingParams> paths = List.of(
                SamplingParams.GREEDY,
                new SamplingParams(0f, 0, 1f, 0f, 1.3f, 64, 1),
                params(0.8f, 40, 1f, 0f, 1),
                params(0.8f, 40, 0.9f, 0.05f, 1),
                params(0.8f, 0, 0.9f, 0f, 1),
                params(0.8f, 0, 1f, 0.05f, 1),
                params(1.0f, 0, 1f, 0f, 1),
                new SamplingParams(0.7f, 64, 0.95f, 0.05f, 1.1f, 64, 1));
        for (SamplingParams p : paths) {
            int t = Sampler.sample(l, 5, vocab, p, 3, history, history.length);
            assertThat(t).as("%s", p).isBetween(0, vocab - 1);
            assertThat(l).as("%s", p).isEqualTo(before);
        }
    }

    @Test
    void shouldRefuseNaNLogitsWhenSampling() {
        float[] l = {0f, 1f, Float.NaN, 2f};
        for (SamplingParams p : List.of(params(1f, 0, 1f, 0f, 0), params(1f, 2, 1f, 0f, 0), params(1f, 0, 0.9f, 0f, 0))) {
            assertThatThrownBy(() -> Sampler.sample(l, 0, 4, p, 0, new int[0], 0)).as("%s", p)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("logits are not finite: logits[2]=NaN, expected no NaN or +Infinity");
        }
    }

    @Test
    void shouldRefuseAllNegativeInfinityLogitsWhenSampling() {
        float[] l = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertThatThrownBy(() -> Sampler.sample(l, 0, 2, params(1f, 0, 1f, 0f, 0), 0, new int[0], 0))
                .hasMessage("logits are not finite: all 2 are -Infinity, expected at least one finite logit");
    }

    @Test
    void shouldNeverDrawAMaskedTokenWhenSomeLogitsAreNegativeInfinity() {
        float[] l = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0.5f};
        for (int step = 0; step < 500; step++) {
            assertThat(Sampler.sample(l, 0, 4, params(2f, 0, 0.99f, 0f, 4), step, new int[0], 0)).isIn(1, 3);
            assertThat(Sampler.sample(l, 0, 4, params(2f, 0, 1f, 0f, 4), step, new int[0], 0)).isIn(1, 3);
        }
    }
}
