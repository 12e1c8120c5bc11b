package catena.shard.eval;

import java.util.Arrays;

/**
 * Per-token statistics of a model against a base run on the same tokens, with llama.cpp's
 * {@code --kl-divergence} estimators: mean KLD ± its standard error, the "same top" fraction ± its
 * binomial error, both perplexities, and {@code ln(PPL(Q)/PPL(base))} whose ± accounts for the
 * correlation of the two NLL series ({@code sqrt(u_q^2 + u_b^2 - 2 cov)}). Uncertainties are 0 for
 * 10 tokens or fewer, as in llama.cpp.
 */
public final class KlStats {
    private double[] klds = new double[1024];
    private int count;
    private double sumKld;
    private double sumKld2;
    private double sumNll;
    private double sumNll2;
    private double sumNllBase;
    private double sumNllBase2;
    private double sumNllNllBase;
    private long sameTop;

    /** One scored token: its KLD, whether both argmaxes agree, and its NLL under the model and the base. */
    public void add(double kld, boolean sameTopToken, double nll, double nllBase) {
        if (count == klds.length) {
            klds = Arrays.copyOf(klds, count * 2);
        }
        klds[count++] = kld;
        sumKld += kld;
        sumKld2 += kld * kld;
        sumNll += nll;
        sumNll2 += nll * nll;
        sumNllBase += nllBase;
        sumNllBase2 += nllBase * nllBase;
        sumNllNllBase += nll * nllBase;
        if (sameTopToken) {
            sameTop++;
        }
    }

    public int count() {
        return count;
    }

    /** A mean and its standard error (llama.cpp's {@code mean_and_uncertainty}). */
    public record Estimate(double value, double error) {
    }

    static Estimate meanAndError(double sum, double sum2, long n) {
        if (n < 1) {
            throw new IllegalStateException("no token has been scored yet");
        }
        double mean = sum / n;
        double var = sum2 / n - mean * mean;
        return new Estimate(mean, var > 0 && n > 10 ? Math.sqrt(var / (n - 1)) : 0);
    }

    public Estimate kld() {
        return meanAndError(sumKld, sumKld2, count);
    }

    /** Fraction of tokens where model and base agree on the most likely token, ± sqrt(p(1-p)/(n-1)). */
    public Estimate sameTop() {
        double p = (double) sameTop / count;
        return new Estimate(p, count > 1 ? Math.sqrt(p * (1 - p) / (count - 1)) : 0);
    }

    public Estimate meanNll() {
        return meanAndError(sumNll, sumNll2, count);
    }

    public Estimate meanNllBase() {
        return meanAndError(sumNllBase, sumNllBase2, count);
    }

    /** PPL(Q) with the error of exp(mean NLL). */
    public Estimate ppl() {
        Estimate m = meanNll();
        double ppl = Math.exp(m.value());
        return new Estimate(ppl, ppl * m.error());
    }

    public Estimate pplBase() {
        Estimate m = meanNllBase();
        double ppl = Math.exp(m.value());
        return new Estimate(ppl, ppl * m.error());
    }

    /** Covariance of the mean NLLs: {@code (mean(ab) - mean(a) mean(b)) / (n-1)}. */
    public double nllCovariance() {
        double n = count;
        return count > 1 ? (sumNllNllBase / n - (sumNll / n) * (sumNllBase / n)) / (n - 1) : 0;
    }

    /** Correlation of the model's and the base's ln PPL estimates (NaN when either has no error). */
    public double lnPplCorrelation() {
        return nllCovariance() / (meanNll().error() * meanNllBase().error());
    }

    /** {@code ln(PPL(Q)/PPL(base))}, the difference of the mean NLLs, ± with their covariance. */
    public Estimate lnPplRatio() {
        Estimate a = meanNll();
        Estimate b = meanNllBase();
        double var = a.error() * a.error() + b.error() * b.error() - 2 * nllCovariance();
        return new Estimate(a.value() - b.value(), var > 0 ? Math.sqrt(var) : 0);
    }

    /** The KLD values sorted ascending (a copy). */
    public double[] sortedKlds() {
        if (count == 0) {
            throw new IllegalStateException("no token has been scored yet");
        }
        double[] s = Arrays.copyOf(klds, count);
        Arrays.sort(s);
        return s;
    }
}
