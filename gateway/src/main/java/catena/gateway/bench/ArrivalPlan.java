package catena.gateway.bench;

import java.util.SplittableRandom;

/**
 * When each request of a benchmark is sent. With a request rate, arrivals follow a gamma
 * process of that mean rate: burstiness 1 is Poisson (exponential gaps), lower is burstier,
 * higher is steadier (as vLLM's benchmark). Without a rate (infinite), every request is due at
 * once and only the concurrency limit spaces them. Pure and seeded: the same arguments give the
 * same plan.
 */
public final class ArrivalPlan {
    private ArrivalPlan() {
    }

    /** Send times in nanoseconds from the start for {@code n} requests. */
    public static long[] times(int n, double requestsPerSecond, double burstiness, long seed) {
        if (n < 0) {
            throw new IllegalArgumentException("--num-prompts=" + n + ", expected >= 0");
        }
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("--request-rate=" + requestsPerSecond + ", expected > 0 (or inf)");
        }
        if (!(burstiness > 0) || Double.isInfinite(burstiness)) {
            throw new IllegalArgumentException("--burstiness=" + burstiness + ", expected a number > 0");
        }
        long[] out = new long[n];
        if (Double.isInfinite(requestsPerSecond)) {
            return out;
        }
        SplittableRandom random = new SplittableRandom(seed);
        // Gamma(shape = burstiness, scale = 1 / (rate * burstiness)): mean gap 1 / rate.
        double scale = 1.0 / (requestsPerSecond * burstiness);
        double t = 0;
        for (int i = 0; i < n; i++) {
            out[i] = Math.round(t * 1e9);
            t += gamma(random, burstiness) * scale;
        }
        return out;
    }

    /** A Gamma(shape, 1) draw (Marsaglia and Tsang; shape < 1 boosted by U^(1/shape)). */
    static double gamma(SplittableRandom random, double shape) {
        if (shape < 1) {
            double u = random.nextDouble();
            return gamma(random, shape + 1) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = normal(random);
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }

    private static double normal(SplittableRandom random) {
        // Box-Muller; one of the pair is enough here.
        double u1 = 1 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
