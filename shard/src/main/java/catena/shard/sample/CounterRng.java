package catena.shard.sample;

/**
 * A counter-based random source: the draw for (seed, step) is a fixed function of both, with no
 * state carried between calls, so any replica reproduces step k without replaying steps 0..k-1.
 * Two rounds of the SplitMix64 finalizer over the mixed pair.
 */
final class CounterRng {
    private CounterRng() {
    }

    /** Uniform double in [0, 1) for (seed, step). */
    static double uniform(long seed, long step) {
        long z = mix(seed + 0x9E3779B97F4A7C15L * (step + 1));
        z = mix(z ^ seed);
        return (z >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
