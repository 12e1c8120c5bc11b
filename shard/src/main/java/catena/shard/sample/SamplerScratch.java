package catena.shard.sample;

/**
 * Reusable buffers for {@link Sampler}, so a token loop does not allocate once they have grown.
 *
 * <p>Not thread-safe: use one per thread or per token loop (a session, a pipeline stage). Arrays
 * grow to the largest size a call needed and are kept; nothing in them carries meaning from one
 * call to the next, so sharing a scratch between sequences changes no result. At a vocabulary of
 * 262144 the worst case (repetition penalty plus top-p over the whole vocabulary) holds about
 * 4 MB; greedy decoding without penalty touches none of it.
 */
public final class SamplerScratch {
    private float[] penalized = new float[0];
    private long[] seen = new long[0];
    private long[] keys = new long[0];
    private float[] weights = new float[0];
    final double[] bucketMass = new double[Nucleus.BUCKETS];
    final int[] bucketCount = new int[Nucleus.BUCKETS];
    /** Result of {@link Sampler#filter}: every id survived ({@code all}), else {@code keys[0 .. count)}. */
    boolean all;
    int count;
    float max;

    /** Empty buffers; they grow on first use. */
    public SamplerScratch() {
    }

    /** A copy target for penalized logits, at least {@code vocab} long. */
    float[] penalized(int vocab) {
        if (penalized.length < vocab) {
            penalized = new float[vocab];
        }
        return penalized;
    }

    /** A bitset over token ids; all zero between calls (users clear what they set). */
    long[] seen(int vocab) {
        int words = (vocab + 63) >>> 6;
        if (seen.length < words) {
            seen = new long[words];
        }
        return seen;
    }

    /** Candidate keys ({@link CandidateKey}), at least {@code n} long. */
    long[] keys(int n) {
        if (keys.length < n) {
            keys = new long[n];
        }
        return keys;
    }

    /** Draw weights, at least {@code n} long. */
    float[] weights(int n) {
        if (weights.length < n) {
            weights = new float[n];
        }
        return weights;
    }
}
