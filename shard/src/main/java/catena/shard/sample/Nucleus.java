package catena.shard.sample;

import java.util.Arrays;

/**
 * Top-p: the shortest best-first prefix of the candidates whose probability (softmax at
 * temperature 1 over the current candidates, as in llama.cpp) reaches {@code topP}; at least one.
 *
 * <p>Over the whole vocabulary it avoids a full sort: tokens go into buckets by their distance to
 * the best logit, the bucket where the cumulative mass crosses {@code topP} is found, and only that
 * bucket is sorted. Buckets are monotone in the logit, so every token in an earlier bucket precedes
 * every token of the crossing bucket in the sorted order, and the result is the same prefix a full
 * sort would give.
 */
final class Nucleus {
    static final int BUCKETS = 1024;
    /** Logit distance beyond which all tokens share the last bucket: e^-40 of the best is negligible mass. */
    private static final float MAX_RANGE = 40f;

    private Nucleus() {
    }

    /** Length of the nucleus prefix of sorted {@code keys[0..n)}; {@code max} is the best logit. */
    static int prefix(float[] l, int base, long[] keys, int n, float max, float topP) {
        double z = 0;
        for (int j = 0; j < n; j++) {
            z += StrictMath.exp(l[base + CandidateKey.id(keys[j])] - max);
        }
        double target = topP * z;
        double cum = 0;
        for (int j = 0; j < n; j++) {
            cum += StrictMath.exp(l[base + CandidateKey.id(keys[j])] - max);
            if (cum >= target) {
                return j + 1;
            }
        }
        return n;
    }

    /**
     * The nucleus of the whole vocabulary into {@code s.keys}: first, in id order, the tokens of the
     * buckets before the crossing one, then the sorted prefix of the crossing bucket. Returns the count.
     */
    static int select(float[] l, int base, int vocab, float max, float topP, SamplerScratch s) {
        float min = max;
        for (int i = 0; i < vocab; i++) {
            min = Math.min(min, l[base + i]);
        }
        float range = Math.min(max - min, MAX_RANGE);
        float scale = range > 0 ? (BUCKETS - 1) / range : 0f;
        double[] mass = s.bucketMass;
        int[] count = s.bucketCount;
        Arrays.fill(mass, 0);
        Arrays.fill(count, 0);
        double z = 0;
        for (int i = 0; i < vocab; i++) {
            float v = l[base + i];
            double e = StrictMath.exp(v - max);
            z += e;
            int b = bucket(max, v, scale);
            mass[b] += e;
            count[b]++;
        }
        if (Double.isNaN(z)) {
            throw NonFiniteLogits.at(l, base, vocab);
        }
        double target = topP * z;
        double before = 0;
        int crossing = 0;
        int above = 0;
        while (crossing < BUCKETS - 1 && before + mass[crossing] < target) {
            before += mass[crossing];
            above += count[crossing];
            crossing++;
        }
        int inCrossing = count[crossing];
        long[] keys = s.keys(above + inCrossing);
        int a = 0;
        int c = above;
        for (int i = 0; i < vocab; i++) {
            float v = l[base + i];
            int b = bucket(max, v, scale);
            if (b < crossing) {
                keys[a++] = CandidateKey.of(v, i);
            } else if (b == crossing) {
                keys[c++] = CandidateKey.of(v, i);
            }
        }
        Arrays.sort(keys, above, c);
        double cum = before;
        for (int j = above; j < c; j++) {
            cum += StrictMath.exp(l[base + CandidateKey.id(keys[j])] - max);
            if (cum >= target) {
                return j + 1;
            }
        }
        return c;
    }

    /** Same expression in both passes, so a token lands in the same bucket each time. */
    private static int bucket(float max, float v, float scale) {
        return (int) Math.min(BUCKETS - 1, (max - v) * scale);
    }
}
