package catena.worker.stage;

import catena.worker.engine.StageKv;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decides what a stage's next forward pass runs. Stage 0: every decoding sequence's one row, plus
 * prompt rows up to a token budget (chunked prefill, so a long prompt never stalls the streams
 * already decoding), oldest sequences first; later stages: the rows that arrived. Before rows run,
 * their KV blocks are reserved; when blocks run out, the youngest admitted sequence is preempted
 * (its blocks freed; the caller tells its owner, who re-submits it with the tokens so far). New
 * sequences wait until their prompt plus a reserve fits beside what admitted sequences still need.
 */
public final class StageScheduler<T> {

    /**
     * {@code maxBatchTokens}: rows a stage-0 pass takes at most, decoding rows included (prompt rows
     * get at least one block's worth); {@code maxRows}: rows any pass may hold (the activation message
     * size); {@code reserveTokens}: positions beyond its prompt a new sequence must find room for;
     * {@code maxWaiting}: sequences that may wait for admission.
     */
    public record Settings(int maxBatchTokens, int maxRows, int reserveTokens, int maxWaiting) {
        public Settings {
            if (maxBatchTokens < 1 || maxRows < 1 || reserveTokens < 0 || maxWaiting < 0) {
                throw new IllegalArgumentException("scheduler settings: maxBatchTokens=" + maxBatchTokens + ", maxRows="
                        + maxRows + ", reserveTokens=" + reserveTokens + ", maxWaiting=" + maxWaiting
                        + ", expected >= 1, >= 1, >= 0, >= 0");
            }
        }
    }

    /** What became of a new sequence offered to stage 0. */
    public enum Admission {
        /** Waiting for (or given) KV room; it runs when the scheduler admits it. */
        QUEUED,
        /** Its prompt plus the reserve needs more blocks than the stage holds at all. */
        TOO_LARGE,
        /** Too many sequences wait already. */
        QUEUE_FULL
    }

    /**
     * Rows of one sequence in a pass: {@code first} = its first rows on this stage (they carry its
     * start); {@code tokens}: on stage 0 the ids taken from the sequence's pending tokens, else null.
     */
    public record Entry<T>(StageSequence<T> sequence, int rows, boolean sample, boolean first, int[] tokens) {
        public Entry(StageSequence<T> sequence, int rows, boolean sample, boolean first) {
            this(sequence, rows, sample, first, null);
        }
    }

    /**
     * A pass: entries in row order, the token id of every row (stage 0: taken from the pending
     * tokens), and the sequences preempted to make room (already freed from the table).
     */
    public record Pass<T>(List<Entry<T>> entries, int[] tokens, int rows, List<StageSequence<T>> preempted) {
        public boolean isEmpty() {
            return entries.isEmpty();
        }
    }

    private final SequenceTable<T> table;
    private final Settings settings;
    private long preemptions;

    public StageScheduler(SequenceTable<T> table, Settings settings) {
        this.table = table;
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /** Sequences preempted since this scheduler was made. */
    public long preemptions() {
        return preemptions;
    }

    /** Stage 0: queues a new sequence whose {@code prompt} runs first, unless it can never fit or the queue is full. */
    public Admission offer(long id, T start, int[] prompt) {
        StageKv kv = table.kv();
        if (kv.blocksFor(prompt.length + settings.reserveTokens()) > kv.totalBlocks()) {
            return Admission.TOO_LARGE;
        }
        if (table.waiting() >= settings.maxWaiting()) {
            return Admission.QUEUE_FULL;
        }
        StageSequence<T> s = table.add(id, start);
        s.addPending(prompt, 0, prompt.length);
        return Admission.QUEUED;
    }

    /** Stage 0: admits what fits, then gathers the next pass. */
    public Pass<T> nextFirstPass() {
        admitWaiting();
        List<StageSequence<T>> ready = new ArrayList<>();
        int decoding = 0;
        for (StageSequence<T> s : table.all()) {
            if (s.admitted() && s.pendingLen > 0) {
                ready.add(s);
                if (decodes(s)) {
                    decoding++;
                }
            }
        }
        if (ready.isEmpty()) {
            return new Pass<>(List.of(), new int[0], 0, List.of());
        }
        ready.sort(Comparator.comparingLong(s -> s.order));
        int prefillLeft = Math.max(table.kv().blockTokens(), settings.maxBatchTokens() - decoding);
        List<Entry<T>> entries = new ArrayList<>();
        List<StageSequence<T>> preempted = new ArrayList<>();
        int rows = 0;
        for (StageSequence<T> s : ready) {
            if (!s.admitted() || rows == settings.maxRows()) {
                continue;
            }
            boolean decode = decodes(s);
            int take = decode ? 1 : Math.min(s.pendingLen, prefillLeft);
            take = Math.min(take, settings.maxRows() - rows);
            if (take <= 0 || !reserve(s, take, entries, preempted)) {
                continue;
            }
            int[] ids = new int[take];
            s.takePending(take, ids, 0);
            entries.add(new Entry<>(s, take, s.pendingLen == 0, !s.startSent, ids));
            s.startSent = true;
            if (!decode) {
                prefillLeft -= take;
            }
            rows += take;
        }
        // Preemption may have dropped entries already taken: the tokens are those of the survivors.
        int total = 0;
        for (Entry<T> e : entries) {
            total += e.rows();
        }
        int[] tokens = new int[total];
        int at = 0;
        for (Entry<T> e : entries) {
            System.arraycopy(e.tokens(), 0, tokens, at, e.rows());
            at += e.rows();
        }
        return new Pass<>(entries, tokens, total, preempted);
    }

    /**
     * Later stages: reserves blocks for rows that arrived, in order, admitting sequences on their
     * first rows; returns the entries that can run (rows of preempted sequences removed) with
     * {@code tokens} unchanged, and the preempted sequences.
     */
    public Pass<T> reserveArrived(List<Entry<T>> arrived) {
        List<Entry<T>> entries = new ArrayList<>();
        List<StageSequence<T>> preempted = new ArrayList<>();
        int rows = 0;
        for (Entry<T> e : arrived) {
            StageSequence<T> s = e.sequence();
            if (table.get(s.id) != s) {
                continue;
            }
            table.admit(s);
            if (reserve(s, e.rows(), entries, preempted)) {
                entries.add(e);
                rows += e.rows();
            }
        }
        return new Pass<>(entries, null, rows, preempted);
    }

    private static boolean decodes(StageSequence<?> s) {
        return s.cache.length() > 0 && s.pendingLen == 1;
    }

    /**
     * Reserves {@code rows} for {@code s}, preempting the youngest admitted sequences until they fit;
     * false if {@code s} itself was preempted (or nothing could make room).
     */
    private boolean reserve(StageSequence<T> s, int rows, List<Entry<T>> entries, List<StageSequence<T>> preempted) {
        StageKv kv = table.kv();
        while (!kv.tryReserve(s.cache, rows)) {
            StageSequence<T> victim = table.youngest();
            if (victim == null) {
                return false;
            }
            table.free(victim.id);
            preempted.add(victim);
            preemptions++;
            entries.removeIf(e -> e.sequence() == victim);
            if (victim == s) {
                return false;
            }
        }
        return true;
    }

    private void admitWaiting() {
        StageKv kv = table.kv();
        int promised = 0;
        for (StageSequence<T> s : table.all()) {
            if (s.admitted() && s.pendingLen > 1) {
                promised += kv.blocksFor(s.cache, s.pendingLen + settings.reserveTokens());
            }
        }
        for (StageSequence<T> s : table.all()) {
            if (s.admitted()) {
                continue;
            }
            int need = kv.blocksFor(s.pendingLen + settings.reserveTokens());
            if (need > kv.freeBlocks() - promised) {
                return;
            }
            table.admit(s);
            promised += need;
        }
    }
}
