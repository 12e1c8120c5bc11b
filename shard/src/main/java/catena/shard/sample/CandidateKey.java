package catena.shard.sample;

/**
 * A candidate token packed into one long whose natural (signed) order is the sampler's ranking:
 * higher logit first, lower id first among equal logits. Sorting and heaps then work on a primitive
 * {@code long[]} without comparators or boxing.
 *
 * <pre>
 * bit 63 ........ 32 | 31 ........ 0
 * ~ordered(logit)    | token id (>= 0)
 * </pre>
 *
 * {@code ordered} maps float bits to an int with the same order as the floats (negative floats
 * have their magnitude bits flipped); {@code -0f} is folded into {@code 0f} so the two tie as
 * they do under {@code ==}.
 */
final class CandidateKey {
    private CandidateKey() {
    }

    static long of(float logit, int id) {
        int bits = Float.floatToIntBits(logit + 0f);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | id;
    }

    static int id(long key) {
        return (int) key;
    }
}
