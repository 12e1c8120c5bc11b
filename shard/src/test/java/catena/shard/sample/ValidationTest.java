package catena.shard.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ValidationTest {
    static SamplingParams of(float temperature, int topK, float topP, float minP, float penalty, int window) {
        return new SamplingParams(temperature, topK, topP, minP, penalty, window, 0);
    }

    static void refused(SamplingParams p, String message) {
        assertThatThrownBy(p::validate).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        // The sampler validates too, so a caller that forgot cannot get a silent garbage draw.
        assertThatThrownBy(() -> Sampler.sample(new float[] {1f, 2f}, 0, 2, p, 0, new int[0], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void shouldRefuseABadTemperature() {
        String rule = ", expected a finite number >= 0 (0 = greedy)";
        refused(of(Float.NaN, 0, 1f, 0f, 1f, 64), "invalid sampling parameter: temperature=NaN" + rule);
        refused(of(-0.5f, 0, 1f, 0f, 1f, 64), "invalid sampling parameter: temperature=-0.5" + rule);
        refused(of(Float.POSITIVE_INFINITY, 0, 1f, 0f, 1f, 64),
                "invalid sampling parameter: temperature=Infinity" + rule);
    }

    @Test
    void shouldRefuseANegativeTopK() {
        refused(of(1f, -1, 1f, 0f, 1f, 64), "invalid sampling parameter: top_k=-1, expected >= 0 (0 = off)");
    }

    @Test
    void shouldRefuseTopPOutsideZeroToOne() {
        String rule = ", expected 0 < top_p <= 1 (1 = off)";
        refused(of(1f, 0, 0f, 0f, 1f, 64), "invalid sampling parameter: top_p=0.0" + rule);
        refused(of(1f, 0, 1.5f, 0f, 1f, 64), "invalid sampling parameter: top_p=1.5" + rule);
        refused(of(1f, 0, Float.NaN, 0f, 1f, 64), "invalid sampling parameter: top_p=NaN" + rule);
    }

    @Test
    void shouldRefuseMinPOutsideZeroToOne() {
        String rule = ", expected 0 <= min_p <= 1 (0 = off)";
        refused(of(1f, 0, 1f, -0.1f, 1f, 64), "invalid sampling parameter: min_p=-0.1" + rule);
        refused(of(1f, 0, 1f, 1.01f, 1f, 64), "invalid sampling parameter: min_p=1.01" + rule);
        refused(of(1f, 0, 1f, Float.NaN, 1f, 64), "invalid sampling parameter: min_p=NaN" + rule);
    }

    @Test
    void shouldRefuseANonPositiveRepetitionPenalty() {
        String rule = ", expected a finite number > 0 (1 = off)";
        refused(of(1f, 0, 1f, 0f, 0f, 64), "invalid sampling parameter: repetition_penalty=0.0" + rule);
        refused(of(1f, 0, 1f, 0f, -1f, 64), "invalid sampling parameter: repetition_penalty=-1.0" + rule);
        refused(of(1f, 0, 1f, 0f, Float.NaN, 64), "invalid sampling parameter: repetition_penalty=NaN" + rule);
    }

    @Test
    void shouldRefuseANegativeRepetitionWindow() {
        refused(of(1f, 0, 1f, 0f, 1.1f, -1),
                "invalid sampling parameter: repetition_window=-1, expected >= 0 (0 = off)");
    }

    @Test
    void shouldAcceptTheBoundsOfEveryRange() {
        assertThat(of(0f, 0, 1f, 0f, 1f, 0).validate()).isNotNull();
        assertThat(of(2f, 40, 1e-6f, 1f, 0.01f, 1 << 20).validate()).isNotNull();
        assertThat(SamplingParams.GREEDY.validate()).isSameAs(SamplingParams.GREEDY);
    }

    @Test
    void shouldRefuseLogitRangesOutsideTheArray() {
        assertThatThrownBy(() -> Sampler.sample(new float[4], 2, 3, SamplingParams.GREEDY, 0, new int[0], 0))
                .hasMessage("logits range out of bounds: off=2, vocab=3, expected vocab >= 1 and off + vocab <= logits.length=4");
        assertThatThrownBy(() -> Sampler.sample(new float[4], 0, 4, SamplingParams.GREEDY, 0, new int[1], 2))
                .hasMessage("history length out of bounds: historyLen=2, expected 0 <= historyLen <= history.length=1");
    }
}
