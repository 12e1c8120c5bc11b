package catena.shard.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RepetitionPenaltyTest {
    static SamplingParams penalty(float penalty, int window) {
        return new SamplingParams(0f, 0, 1f, 0f, penalty, window, 0);
    }

    static float[] penalized(float[] l, SamplingParams p, int... history) {
        return RepetitionPenalty.apply(l, 0, l.length, p, history, history.length, new SamplerScratch()).clone();
    }

    @Test
    void shouldDividePositiveAndMultiplyNegativeLogitsOnceWhenTokensRepeat() {
        float[] l = {2.0f, 1.9f, -1.0f, -1.1f, 0f};
        float[] out = penalized(l, penalty(1.5f, 64), 0, 0, 0, 2, 4, 2);
        assertThat(out).containsExactly(2.0f / 1.5f, 1.9f, -1.0f * 1.5f, -1.1f, 0f);
        assertThat(l).containsExactly(2.0f, 1.9f, -1.0f, -1.1f, 0f);
    }

    @Test
    void shouldRaiseRepeatedLogitsWhenThePenaltyIsBelowOne() {
        float[] out = penalized(new float[] {2.0f, -1.0f}, penalty(0.5f, 64), 0, 1);
        assertThat(out).containsExactly(4.0f, -0.5f);
    }

    @Test
    void shouldOnlyLookAtTheLastWindowTokensWhenTheHistoryIsLonger() {
        float[] out = penalized(new float[] {2f, 2f, 2f}, penalty(2f, 2), 0, 1, 2);
        assertThat(out).containsExactly(2f, 1f, 1f);
    }

    @Test
    void shouldChangeTheGreedyChoiceWhenTheBestTokenWasRepeated() {
        float[] l = {2.0f, 1.9f, -1.0f, -1.1f};
        int[] history = {0, 0, 0, 2};
        assertThat(Sampler.sample(l, 0, 4, penalty(1.5f, 64), 0, history, 4)).isEqualTo(1);
        // Among negatives, the penalized -1.0 becomes -1.5 and falls below -1.1.
        float[] neg = {-5f, -5f, -1.0f, -1.1f};
        assertThat(Sampler.sample(neg, 0, 4, penalty(1.5f, 64), 0, new int[] {2}, 1)).isEqualTo(3);
        // Window 1 sees only token 2: token 0 keeps its lead.
        assertThat(Sampler.sample(l, 0, 4, penalty(1.5f, 1), 0, history, 4)).isEqualTo(0);
    }

    @Test
    void shouldPenalizeRelativeToTheOffsetWhenLogitsAreASlice() {
        float[] l = {100f, 2.0f, 1.9f, 100f};
        assertThat(Sampler.sample(l, 1, 2, penalty(1.5f, 64), 0, new int[] {0}, 1)).isEqualTo(1);
        assertThat(l).containsExactly(100f, 2.0f, 1.9f, 100f);
    }

    @Test
    void shouldForgetEarlierHistoriesWhenTheScratchIsReused() {
        SamplerScratch s = new SamplerScratch();
        float[] l = {1f, 1f, 1f};
        RepetitionPenalty.apply(l, 0, 3, penalty(2f, 64), new int[] {0, 1}, 2, s);
        float[] out = RepetitionPenalty.apply(l, 0, 3, penalty(2f, 64), new int[] {1, 2}, 2, s);
        assertThat(out).startsWith(1f, 0.5f, 0.5f);
    }

    @Test
    void shouldRefuseHistoryIdsOutsideTheVocabulary() {
        float[] l = {1f, 1f, 1f};
        assertThatThrownBy(() -> Sampler.sample(l, 0, 3, penalty(1.1f, 64), 0, new int[] {1, 3}, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("history token out of vocabulary: history[1]=3, expected 0 <= id < vocabSize=3");
        assertThatThrownBy(() -> Sampler.sample(l, 0, 3, penalty(1.1f, 64), 0, new int[] {-1}, 1))
                .hasMessage("history token out of vocabulary: history[0]=-1, expected 0 <= id < vocabSize=3");
    }
}
