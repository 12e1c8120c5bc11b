package catena.shard.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KlStatsTest {
    private static final double EPS = 1e-9;

    @Test
    void shouldBeZeroWhenDistributionsAreIdentical() {
        Random r = new Random(7);
        float[] logits = new float[512];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 4);
        }
        float[] base = new float[512];
        LogSoftmax.logProbs(logits, 0, 512, base, 0);
        assertThat(KlDivergence.of(base, 0, logits, 0, 512)).isCloseTo(0, within(1e-6));
    }

    @Test
    void shouldMatchHandComputedValueWhenTwoTokens() {
        // base p = (1/2, 1/2); model logits (0, ln 3) give q = (1/4, 3/4):
        // KL = 1/2 ln(2) + 1/2 ln(2/3) = 1/2 ln(4/3)
        float[] base = {(float) Math.log(0.5), (float) Math.log(0.5)};
        float[] logits = {0f, (float) Math.log(3)};
        assertThat(KlDivergence.of(base, 0, logits, 0, 2)).isCloseTo(0.5 * Math.log(4.0 / 3), within(1e-6));
        // and the other way round: KL(q || p) = 1/4 ln(1/2) + 3/4 ln(3/2), a different number
        float[] q = {(float) Math.log(0.25), (float) Math.log(0.75)};
        float[] p = {5f, 5f};
        assertThat(KlDivergence.of(q, 0, p, 0, 2)).isCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), within(1e-6));
    }

    @Test
    void shouldSkipZeroProbabilitiesWhenBaseHasThem() {
        float[] base = {0f, Float.NEGATIVE_INFINITY};
        float[] logits = {0f, 0f};
        assertThat(KlDivergence.of(base, 0, logits, 0, 2)).isCloseTo(Math.log(2), within(1e-6));
    }

    @Test
    void shouldGiveNoPplDifferenceWhenModelEqualsBase() {
        KlStats s = new KlStats();
        for (int i = 0; i < 50; i++) {
            double nll = 0.1 * (i % 7);
            s.add(0, true, nll, nll);
        }
        assertThat(s.kld().value()).isZero();
        assertThat(s.sameTop().value()).isEqualTo(1.0);
        assertThat(s.ppl().value()).isCloseTo(s.pplBase().value(), within(EPS));
        assertThat(s.lnPplRatio().value()).isCloseTo(0, within(EPS));
        assertThat(s.lnPplRatio().error()).isCloseTo(0, within(1e-6)); // the series are fully correlated
        assertThat(s.lnPplCorrelation()).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void shouldMatchHandComputedMeansWhenTwelveTokens() {
        KlStats s = new KlStats();
        // KLD 0,1,...,11: mean 5.5, population variance 143/12, error sqrt(143/12/11)
        for (int i = 0; i < 12; i++) {
            s.add(i, i % 4 != 0, 2.0, 1.0); // 9 of 12 agree on the top token
        }
        assertThat(s.kld().value()).isCloseTo(5.5, within(EPS));
        assertThat(s.kld().error()).isCloseTo(Math.sqrt(143.0 / 12 / 11), within(EPS));
        assertThat(s.sameTop().value()).isCloseTo(0.75, within(EPS));
        assertThat(s.sameTop().error()).isCloseTo(Math.sqrt(0.75 * 0.25 / 11), within(EPS));
        assertThat(s.lnPplRatio().value()).isCloseTo(1.0, within(EPS));
        assertThat(s.ppl().value()).isCloseTo(Math.exp(2), within(EPS));
        assertThat(s.pplBase().value()).isCloseTo(Math.exp(1), within(EPS));
    }

    @Test
    void shouldReportNoUncertaintyWhenTenTokensOrFewer() {
        KlStats s = new KlStats();
        for (int i = 0; i < 10; i++) {
            s.add(i, true, i, 0);
        }
        assertThat(s.kld().error()).isZero();
        assertThat(s.meanNll().error()).isZero();
    }

    @Test
    void shouldInterpolatePercentilesWhenBetweenSamples() {
        double[] s = {1, 2, 3, 4};
        assertThat(Quantiles.median(s)).isEqualTo(2.5);
        assertThat(Quantiles.median(new double[] {1, 5, 9})).isEqualTo(5);
        assertThat(Quantiles.percentile(s, 0.5)).isCloseTo(2.5, within(EPS));
        assertThat(Quantiles.percentile(s, 0.9)).isCloseTo(3.7, within(EPS));
        assertThat(Quantiles.percentile(s, 0)).isEqualTo(1);
        assertThat(Quantiles.percentile(s, 1)).isEqualTo(4);
    }

    @Test
    void shouldSortKldsWhenAskedForThem() {
        KlStats s = new KlStats();
        for (int i = 2000; i > 0; i--) {
            s.add(i, false, 0, 0);
        }
        double[] k = s.sortedKlds();
        assertThat(k).hasSize(2000);
        assertThat(k[0]).isEqualTo(1);
        assertThat(k[1999]).isEqualTo(2000);
    }
}
