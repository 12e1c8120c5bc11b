package catena.worker.stage;

import catena.worker.engine.SequenceCache;
import catena.worker.engine.StageKv;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sequences a stage holds, in arrival order, with their KV blocks from the stage's
 * {@link StageKv}, and the ids it has freed (so that rows of a freed sequence still in flight are
 * dropped instead of reviving it: sequence ids are never reused, so remembering them is exact).
 */
public final class SequenceTable<T> {
    private static final int FREED_REMEMBERED = 1 << 16;

    private final StageKv kv;
    private final LinkedHashMap<Long, StageSequence<T>> sequences = new LinkedHashMap<>();
    private final Map<Long, Boolean> freed = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > FREED_REMEMBERED;
        }
    };
    private long admissions;

    public SequenceTable(StageKv kv) {
        this.kv = kv;
    }

    public StageKv kv() {
        return kv;
    }

    public StageSequence<T> get(long id) {
        return sequences.get(id);
    }

    public boolean wasFreed(long id) {
        return freed.containsKey(id);
    }

    /** Adds a sequence (not yet admitted: it holds no blocks). */
    public StageSequence<T> add(long id, T start) {
        StageSequence<T> s = new StageSequence<>(id, start);
        sequences.put(id, s);
        return s;
    }

    /**
     * Adds a sequence ahead of every waiting one: a sequence that was admitted before (preempted,
     * or moved from a lost replica) resumes before new work, as its client is mid-stream.
     */
    public StageSequence<T> addFirst(long id, T start) {
        StageSequence<T> s = new StageSequence<>(id, start);
        sequences.putFirst(id, s);
        return s;
    }

    /** Gives the sequence an empty cache and makes it the youngest admitted one. */
    public void admit(StageSequence<T> s) {
        if (s.cache == null) {
            s.cache = kv.newCache();
            s.order = ++admissions;
        }
    }

    /** Drops the sequence and returns its blocks; remembers the id as freed. Null if unknown. */
    public StageSequence<T> free(long id) {
        freed.put(id, Boolean.TRUE);
        StageSequence<T> s = sequences.remove(id);
        if (s != null && s.cache != null) {
            kv.release(s.cache);
            s.cache = null;
        }
        return s;
    }

    /** Drops every sequence (a new assignment); returns what was dropped. */
    public List<StageSequence<T>> clear() {
        List<StageSequence<T>> all = new ArrayList<>(sequences.values());
        for (StageSequence<T> s : all) {
            free(s.id);
        }
        return all;
    }

    /** The next victim of a preemption: the youngest admitted fresh sequence, else the youngest resumed one; or null. */
    public StageSequence<T> youngest() {
        StageSequence<T> y = null;
        for (StageSequence<T> s : sequences.values()) {
            if (s.cache != null && (y == null || (y.resumed && !s.resumed)
                    || (y.resumed == s.resumed && s.order > y.order))) {
                y = s;
            }
        }
        return y;
    }

    public Collection<StageSequence<T>> all() {
        return sequences.values();
    }

    public int size() {
        return sequences.size();
    }

    /** Sequences not yet admitted (waiting for KV room). */
    public int waiting() {
        int n = 0;
        for (StageSequence<T> s : sequences.values()) {
            if (s.cache == null) {
                n++;
            }
        }
        return n;
    }

    /** Bytes of KV held by this stage's sequences. */
    public long cacheBytes() {
        long b = 0;
        for (StageSequence<T> s : sequences.values()) {
            SequenceCache c = s.cache;
            if (c != null) {
                b += c.bytes();
            }
        }
        return b;
    }
}
