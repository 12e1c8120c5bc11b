package catena.worker.prefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cached blocks of one stage by name, each with a payload (what holds its KV) and a count of
 * the sequences using it. A block nobody uses stays cached, idle, until room is needed:
 * {@link #evictOldest()} takes the least recently released idle block. A block in use is never
 * evicted. Releasing a sequence's blocks from its last to its first keeps a prompt's first blocks
 * the most recently used, so a chain is evicted from its end and its start stays matchable.
 * Not thread-safe: one owner (the stage actor) calls it.
 *
 * @param <P> what a block's KV is held by (the engine's shared pages)
 */
public final class PrefixIndex<P> {
    private final Map<BlockHash, Entry<P>> entries = new HashMap<>();
    /** Blocks with no user, least recently released first. */
    private final LinkedHashMap<BlockHash, Entry<P>> idle = new LinkedHashMap<>();

    private static final class Entry<P> {
        final P payload;
        int refs;

        Entry(P payload) {
            this.payload = payload;
        }
    }

    /** How many of {@code chain}'s leading blocks are cached, at most {@code maxBlocks}. */
    public int match(BlockHash[] chain, int maxBlocks) {
        int n = Math.min(chain.length, maxBlocks);
        for (int i = 0; i < n; i++) {
            if (!entries.containsKey(chain[i])) {
                return i;
            }
        }
        return n;
    }

    /**
     * Takes one reference to each of the first {@code n} blocks of {@code chain} and returns their
     * payloads in order; takes nothing and returns null unless all are cached.
     */
    public List<P> acquire(BlockHash[] chain, int n) {
        if (n > chain.length || match(chain, n) < n) {
            return null;
        }
        List<P> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Entry<P> e = entries.get(chain[i]);
            if (e.refs++ == 0) {
                idle.remove(chain[i]);
            }
            out.add(e.payload);
        }
        return out;
    }

    /** Drops one reference to a block; at none it becomes idle (the most recently used idle block). */
    public void release(BlockHash hash) {
        Entry<P> e = entries.get(hash);
        if (e == null || e.refs == 0) {
            throw new IllegalStateException("release of block " + hash + ": refs="
                    + (e == null ? "absent" : "0") + ", expected a block in use");
        }
        if (--e.refs == 0) {
            idle.put(hash, e);
        }
    }

    /**
     * Caches a block just computed by a sequence, which holds one reference to it; false (and
     * nothing cached) if a block of that name is cached already.
     */
    public boolean publish(BlockHash hash, P payload) {
        if (entries.containsKey(hash)) {
            return false;
        }
        Entry<P> e = new Entry<>(payload);
        e.refs = 1;
        entries.put(hash, e);
        return true;
    }

    /** Whether a block of that name is cached. */
    public boolean contains(BlockHash hash) {
        return entries.containsKey(hash);
    }

    /** Removes the least recently used idle block and returns its payload (to be freed); null if none is idle. */
    public P evictOldest() {
        Iterator<Map.Entry<BlockHash, Entry<P>>> it = idle.entrySet().iterator();
        if (!it.hasNext()) {
            return null;
        }
        Map.Entry<BlockHash, Entry<P>> oldest = it.next();
        it.remove();
        entries.remove(oldest.getKey());
        return oldest.getValue().payload;
    }

    /** Removes every idle block, returning their payloads; blocks in use stay. */
    public List<P> evictAll() {
        List<P> out = new ArrayList<>();
        for (P p = evictOldest(); p != null; p = evictOldest()) {
            out.add(p);
        }
        return out;
    }

    /** References to a block (0 if idle or absent). */
    public int refs(BlockHash hash) {
        Entry<P> e = entries.get(hash);
        return e == null ? 0 : e.refs;
    }

    /** Blocks cached, in use or idle. */
    public int size() {
        return entries.size();
    }

    /** Blocks cached that no sequence uses (reclaimable). */
    public int idle() {
        return idle.size();
    }
}
