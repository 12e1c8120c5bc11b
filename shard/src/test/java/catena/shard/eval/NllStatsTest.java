package catena.shard.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NllStatsTest {
    private static final double EPS = 1e-9;

    @Test
    void shouldGiveMinusLogProbabilityWhenScoringARow() {
        // logits (0, ln 3): p = (1/4, 3/4)
        float[] logits = {0f, (float) Math.log(3)};
        assertThat(LogSoftmax.nll(logits, 0, 2, 0)).isCloseTo(Math.log(4), within(1e-6));
        assertThat(LogSoftmax.nll(logits, 0, 2, 1)).isCloseTo(Math.log(4.0 / 3), within(1e-6));
        float[] lp = new float[3];
        LogSoftmax.logProbs(new float[] {9f, 0f, (float) Math.log(3)}, 1, 2, lp, 1);
        assertThat(lp[1]).isCloseTo((float) Math.log(0.25), within(1e-6f));
        assertThat(lp[2]).isCloseTo((float) Math.log(0.75), within(1e-6f));
    }

    @Test
    void shouldBeShiftInvariantWhenLogitsAreLarge() {
        float[] logits = {1000f, 1000f + (float) Math.log(3)};
        assertThat(LogSoftmax.nll(logits, 0, 2, 0)).isCloseTo(Math.log(4), within(1e-4));
    }

    @Test
    void shouldMatchHandComputedPplAndErrorWhenTwoTokens() {
        NllStats s = new NllStats();
        double a = Math.log(4);
        double b = Math.log(4.0 / 3);
        s.add(a);
        s.add(b);
        // mean = ln(16/3)/2, so PPL = sqrt(16/3); var = ((a-b)/2)^2, error = sqrt(var/1) = ln(3)/2
        assertThat(s.count()).isEqualTo(2);
        assertThat(s.ppl()).isCloseTo(Math.sqrt(16.0 / 3), within(EPS));
        assertThat(s.meanNllError()).isCloseTo(Math.log(3) / 2, within(EPS));
        assertThat(s.pplError()).isCloseTo(Math.log(3) / 2 * Math.sqrt(16.0 / 3), within(EPS));
    }

    @Test
    void shouldGiveStandardErrorOfTheMeanWhenFourTokens() {
        NllStats s = new NllStats();
        for (double v : new double[] {1, 2, 3, 4}) {
            s.add(v);
        }
        // population variance 1.25, / (n-1) = 5/12
        assertThat(s.meanNll()).isCloseTo(2.5, within(EPS));
        assertThat(s.meanNllError()).isCloseTo(Math.sqrt(5.0 / 12), within(EPS));
        assertThat(s.ppl()).isCloseTo(Math.exp(2.5), within(EPS));
    }

    @Test
    void shouldHaveNoErrorWhenAllValuesAreEqualOrThereIsOne() {
        NllStats one = new NllStats();
        one.add(0.7);
        assertThat(one.pplError()).isZero();
        NllStats same = new NllStats();
        for (int i = 0; i < 20; i++) {
            same.add(0.5);
        }
        assertThat(same.ppl()).isCloseTo(Math.exp(0.5), within(EPS));
        assertThat(same.pplError()).isZero();
    }

    @Test
    void shouldRefuseAnEstimateWhenNothingWasScored() {
        assertThatThrownBy(() -> new NllStats().ppl()).isInstanceOf(IllegalStateException.class);
    }
}
