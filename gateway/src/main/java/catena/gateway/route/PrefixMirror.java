package catena.gateway.route;

import catena.worker.prefix.BlockHash;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this gateway believes each replica's prefix cache holds: the block names of the prompts it
 * sent there, in an LRU bounded by the replica's KV capacity in blocks (as its stage 0 reports
 * it), as the stages' own caches keep their most recently used blocks. A mirror, not a report: it
 * misses what other gateways sent and what the stage evicted early under load, so it only steers
 * routing; the stage decides what is really cached. Forgotten when the replica's epoch changes
 * (its stages may have reloaded). Thread-safe.
 */
public final class PrefixMirror {
    /** Blocks remembered per replica before the first report gives its capacity. */
    static final int DEFAULT_CAPACITY = 4096;

    private final Map<Integer, Replica> replicas = new HashMap<>();

    private static final class Replica {
        long epoch;
        int capacity = DEFAULT_CAPACITY;
        final LinkedHashMap<BlockHash, Boolean> blocks = new LinkedHashMap<>(256, 0.75f, true);

        void trim() {
            var it = blocks.entrySet().iterator();
            while (blocks.size() > capacity && it.hasNext()) {
                it.next();
                it.remove();
            }
        }
    }

    /** Leading blocks of {@code chain} believed cached on {@code replica} under {@code epoch}. */
    public synchronized int cachedBlocks(int replica, long epoch, BlockHash[] chain) {
        Replica r = replicas.get(replica);
        if (r == null || r.epoch != epoch) {
            return 0;
        }
        int n = 0;
        while (n < chain.length && r.blocks.containsKey(chain[n])) {
            n++;
        }
        return n;
    }

    /** {@code chain} was sent to {@code replica}: its blocks become its most recently used. */
    public synchronized void sent(int replica, long epoch, BlockHash[] chain) {
        Replica r = replica(replica, epoch);
        // last to first, so the chain's start is the most recent and outlives its end, as on the stage
        for (int i = chain.length - 1; i >= 0; i--) {
            r.blocks.put(chain[i], Boolean.TRUE);
        }
        r.trim();
    }

    /** The replica's stage 0 reported room for {@code blocks} KV blocks. */
    public synchronized void capacity(int replica, long epoch, int blocks) {
        Replica r = replica(replica, epoch);
        r.capacity = Math.max(1, blocks);
        r.trim();
    }

    /** How full of remembered blocks {@code replica}'s cache is believed to be under {@code epoch}, 0..1. */
    public synchronized double fill(int replica, long epoch) {
        Replica r = replicas.get(replica);
        return r == null || r.epoch != epoch ? 0 : Math.min(1.0, (double) r.blocks.size() / r.capacity);
    }

    /** Blocks remembered for {@code replica}. */
    public synchronized int size(int replica) {
        Replica r = replicas.get(replica);
        return r == null ? 0 : r.blocks.size();
    }

    private Replica replica(int replica, long epoch) {
        Replica r = replicas.computeIfAbsent(replica, k -> new Replica());
        if (r.epoch != epoch) {
            r.blocks.clear();
            r.epoch = epoch;
        }
        return r;
    }
}
