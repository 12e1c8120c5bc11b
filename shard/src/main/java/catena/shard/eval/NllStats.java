package catena.shard.eval;

/**
 * Running sums of per-token negative log-likelihoods and llama.cpp's perplexity estimate from them:
 * {@code PPL = exp(mean)}, and its ± as llama.cpp prints it: the standard error of the mean NLL,
 * {@code sqrt((mean(v^2) - mean(v)^2) / (n-1))}, carried to PPL by its derivative ({@code × PPL}).
 */
public final class NllStats {
    private double sum;
    private double sum2;
    private long count;

    public void add(double nll) {
        sum += nll;
        sum2 += nll * nll;
        count++;
    }

    public long count() {
        return count;
    }

    public double meanNll() {
        requireSome();
        return sum / count;
    }

    /** Standard error of the mean NLL (0 with fewer than two values). */
    public double meanNllError() {
        requireSome();
        if (count < 2) {
            return 0;
        }
        double mean = sum / count;
        double var = sum2 / count - mean * mean;
        return var > 0 ? Math.sqrt(var / (count - 1)) : 0;
    }

    public double ppl() {
        return Math.exp(meanNll());
    }

    public double pplError() {
        return meanNllError() * ppl();
    }

    private void requireSome() {
        if (count == 0) {
            throw new IllegalStateException("no token has been scored yet");
        }
    }
}
