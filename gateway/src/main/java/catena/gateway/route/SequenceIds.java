package catena.gateway.route;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Sequence ids unique across the cluster and across restarts, so stages never confuse two
 * sequences and never need to forget freed ones: the high 24 bits come from this gateway
 * incarnation's unique id (the cluster member's UID, random per start), the low 40 bits count.
 * Two gateway incarnations share a prefix with probability 2^-24 per pair.
 */
public final class SequenceIds {
    private static final int COUNTER_BITS = 40;
    private final long prefix;
    private final AtomicLong counter = new AtomicLong();

    public SequenceIds(long incarnationUid) {
        long mixed = incarnationUid * 0x9E3779B97F4A7C15L;
        this.prefix = (mixed >>> (64 - 24)) << COUNTER_BITS;
    }

    /** The next id; never 0. */
    public long next() {
        return prefix | (counter.incrementAndGet() & ((1L << COUNTER_BITS) - 1));
    }
}
