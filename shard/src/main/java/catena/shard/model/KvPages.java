package catena.shard.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pages of every KV cache of one model slice: fixed-size arrays of {@link #PAGE_TOKENS}
 * positions of one layer's keys or values, recycled instead of dropped. A cache takes pages as
 * its sequence grows (never copying what it holds, so memory is what its positions need, to a
 * page) and gives them back when its sliding-window layers move past them or it is freed.
 *
 * <p>A freed cache is only noted here; its pages are taken back at the start of the slice's next
 * {@link Model#forward}. A sequence may be freed (on the actor's thread) while a pass that reads
 * and writes its pages is still running, and those pages must neither vanish under that pass nor
 * reach another sequence in it. Passes of one slice are serialized, so at the start of one no
 * earlier pass is running. Everything else here runs on the pass thread.
 */
final class KvPages {
    /** Token positions per page. */
    static final int PAGE_TOKENS = 16;

    /** Free pages by length (floats). */
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private final List<KvCache> retired = new ArrayList<>();
    private volatile long pooledFloats;

    /** A page of {@code length} floats (a free one when there is one). */
    float[] take(int length) {
        ArrayDeque<float[]> q = free.get(length);
        float[] p = q == null ? null : q.poll();
        if (p == null) {
            return new float[length];
        }
        pooledFloats -= length;
        return p;
    }

    /** Takes back a page no pass will read again. */
    void give(float[] page) {
        free.computeIfAbsent(page.length, k -> new ArrayDeque<>()).push(page);
        pooledFloats += page.length;
    }

    /** Notes a freed cache; its pages come back at the next {@link #settle()}. Any thread. */
    synchronized void retire(KvCache cache) {
        retired.add(cache);
    }

    /**
     * Takes back the pages of the caches freed since the last pass, before this pass takes any;
     * a freed cache that is still in {@code batch} (its pass was planned before the free) keeps its
     * pages until a later pass.
     */
    void settle(Batch batch) {
        List<KvCache> now;
        synchronized (this) {
            if (retired.isEmpty()) {
                return;
            }
            now = new ArrayList<>(retired);
            retired.clear();
        }
        for (KvCache c : now) {
            if (inBatch(batch, c)) {
                retire(c);
            } else {
                c.giveAllPages();
            }
        }
    }

    private static boolean inBatch(Batch batch, KvCache c) {
        for (int i = 0; i < batch.size(); i++) {
            if (batch.cache(i) == c) {
                return true;
            }
        }
        return false;
    }

    /** Bytes of pages kept for reuse. */
    long pooledBytes() {
        return 4 * pooledFloats;
    }
}
