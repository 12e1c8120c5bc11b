package catena.shard.sample;

import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/** Shared helpers of the sampler tests. */
final class Fixtures {
    static final int[] NO_HISTORY = new int[0];

    private Fixtures() {
    }

    /** Params without repetition penalty. */
    static SamplingParams params(float temperature, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temperature, topK, topP, minP, 1f, 64, seed);
    }

    /** Logits whose softmax at temperature 1 is {@code probs} (which sum to 1). */
    static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    /** The ids {@link Sampler#filter} keeps. */
    static Set<Integer> kept(float[] l, SamplingParams p) {
        SamplerScratch s = new SamplerScratch();
        Sampler.filter(l, 0, l.length, p, s);
        Set<Integer> ids = new TreeSet<>();
        for (int j = 0; j < (s.all ? l.length : s.count); j++) {
            ids.add(s.all ? j : CandidateKey.id(s.keys(0)[j]));
        }
        return ids;
    }

    static RandomGenerator random(long seed) {
        return RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
    }

    /** Gaussian logits of the given spread. */
    static float[] gaussian(int vocab, double sigma, long seed) {
        RandomGenerator r = random(seed);
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            l[i] = (float) (r.nextGaussian() * sigma);
        }
        return l;
    }
}
