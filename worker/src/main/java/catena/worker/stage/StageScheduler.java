package catena.worker.stage;

import catena.worker.engine.StageKv;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decides what a stage's next forward pass runs. Stage 0: every decoding sequence's one row, plus
 * prompt rows up to a token budget (chunked prefill, so a long prompt never stalls the streams
 * already decoding), oldest sequences first; later stages: the rows that arrived. While sequences
 * decode, a pass takes at most {@code prefillRatio} prompt rows per decoding row (at least a block):
 * a pass costs about a fixed weight read plus a per-row compute on a CPU, so a decoding stream's
 * token then takes at most about {@code 1 + prefillRatio} times as long as without the prompt. Before rows run,
 * their KV blocks are reserved; when blocks run out, the youngest admitted sequence is preempted
 * (its blocks freed; the caller tells its owner, who re-submits it with the tokens so far). New
 * sequences wait until their prompt plus a reserve fits beside what admitted sequences still need.
 */
public final class StageScheduler<T> {

    /**
     * {@code maxBatchTokens}: rows a stage-0 pass takes at most, decoding rows included (prompt rows
     * get at least one block's worth); {@code maxRows}: rows any pass may hold (the activation message
     * size); {@code reserveTokens}: positions beyond its prompt a new sequence must find room for;
     * {@code maxWaiting}: sequences that may wait for admission; {@code prefillRatio}: prompt rows a
     * pass takes per decoding row while sequences decode (0 = only {@code maxBatchTokens} limits them).
     */
    public record Settings(int maxBatchTokens, int maxRows, int reserveTokens, int maxWaiting, double prefillRatio) {
        public Settings {
            if (maxBatchTokens < 1 || maxRows < 1 || reserveTokens < 0 || maxWaiting < 0 || !(prefillRatio >= 0)) {
                throw new IllegalArgumentException("scheduler settings: maxBatchTokens=" + maxBatchTokens + ", maxRows="
                        + maxRows + ", reserveTokens=" + reserveTokens + ", maxWaiting=" + maxWaiting + ", prefillRatio="
                        + prefillRatio + ", expected >= 1, >= 1, >= 0, >= 0, >= 0");
            }
        }

        /** Without the per-decoding-row limit on prompt rows. */
        public Settings(int maxBatchTokens, int maxRows, int reserveTokens, int maxWaiting) {
            this(maxBatchTokens, maxRows, reserveTokens, maxWaiting, 0);
        }

        /** Prompt rows a stage-0 pass may take beside {@code decoding} decoding rows. */
        int prefillBudget(int decoding, int blockTokens) {
            int budget = maxBatchTokens - decoding;
            if (decoding > 0 && prefillRatio > 0) {
                budget = (int) Math.min(budget, Math.floor(prefillRatio * decoding));
            }
            return Math.max(blockTokens, budget);
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
     * start); {@code tokens}: on stage 0 the ids taken from the sequence's pending tokens, on later
     * stages the sequence's prompt when {@code cachedPrefix > 0}, else null; {@code cachedPrefix}:
     * on first rows, the leading prompt positions stage 0 attached from its prefix cache (the rows
     * start after them), which a later stage must attach from its own.
     */
    public record Entry<T>(StageSequence<T> sequence, int rows, boolean sample, boolean first, int[] tokens,
                           int cachedPrefix) {
        public Entry(StageSequence<T> sequence, int rows, boolean sample, boolean first) {
            this(sequence, rows, sample, first, null, 0);
        }
    }

    /**
     * A pass: entries in row order, the token id of every row (stage 0: taken from the pending
     * tokens), the sequences preempted to make room, and (later stages) the sequences whose prefix
     * stage 0 took from its cache but this stage no longer holds, to be re-run without the cache,
     * and the sequences grown past what this stage's whole KV budget holds, which no preemption
     * can serve (all already freed from the table).
     */
    public record Pass<T>(List<Entry<T>> entries, int[] tokens, int rows, List<StageSequence<T>> preempted,
                          List<StageSequence<T>> missed, List<StageSequence<T>> tooLarge) {
        public Pass(List<Entry<T>> entries, int[] tokens, int rows, List<StageSequence<T>> preempted) {
            this(entries, tokens, rows, preempted, List.of(), List.of());
        }

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
        return offer(id, start, prompt, true);
    }

    /**
     * As {@link #offer(long, Object, int[])}; {@code usePrefix}: whether the prompt's leading blocks
     * may come from the prefix cache (false for a sequence re-run after a later stage missed them).
     */
    public Admission offer(long id, T start, int[] prompt, boolean usePrefix) {
        return offer(id, start, prompt, usePrefix, false);
    }

    /**
     * As above; {@code resumed}: the sequence has streamed tokens already (it was preempted, or its
     * replica was lost) and continues from prompt + those tokens. It waits ahead of new sequences
     * and is never refused for a full queue: its client was promised the rest of the stream.
     */
    public Admission offer(long id, T start, int[] prompt, boolean usePrefix, boolean resumed) {
        StageKv kv = table.kv();
        if (kv.blocksFor(prompt.length + settings.reserveTokens()) > kv.totalBlocks()) {
            return Admission.TOO_LARGE;
        }
        if (!resumed && table.waiting() >= settings.maxWaiting()) {
            return Admission.QUEUE_FULL;
        }
        StageSequence<T> s = resumed ? table.addFirst(id, start) : table.add(id, start);
        s.resumed = resumed;
        s.usePrefix = usePrefix;
        s.addPending(prompt, 0, prompt.length);
        // Admitted at once when it fits, so that a burst only waits (and counts against the queue
        // bound) for the memory it cannot have yet, not for the next pass to be planned. Its prefix
        // is attached when the next pass is planned: a pass may be running now, and attaching
        // retains pages that pass may be releasing.
        admitWaiting();
        return Admission.QUEUED;
    }

    /** Stage 0, with no pass running: admits what fits, attaches cached prefixes, then gathers the next pass. */
    public Pass<T> nextFirstPass() {
        admitWaiting();
        for (StageSequence<T> s : table.all()) {
            if (s.admitted() && !s.prefixChecked) {
                attachCached(s);
            }
        }
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
        int prefillLeft = settings.prefillBudget(decoding, table.kv().blockTokens());
        List<Entry<T>> entries = new ArrayList<>();
        List<StageSequence<T>> preempted = new ArrayList<>();
        List<StageSequence<T>> tooLarge = new ArrayList<>();
        int rows = 0;
        for (StageSequence<T> s : ready) {
            if (!s.admitted() || rows == settings.maxRows()) {
                continue;
            }
            boolean decode = decodes(s);
            int take = decode ? 1 : Math.min(s.pendingLen, prefillLeft);
            take = Math.min(take, settings.maxRows() - rows);
            if (take <= 0 || !reserve(s, take, entries, preempted, tooLarge)) {
                continue;
            }
            int[] ids = new int[take];
            s.takePending(take, ids, 0);
            entries.add(new Entry<>(s, take, s.pendingLen == 0, !s.startSent, ids, s.startSent ? 0 : s.cachedPrefix));
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
        return new Pass<>(entries, tokens, total, preempted, List.of(), tooLarge);
    }

    /**
     * Later stages: reserves blocks for rows that arrived, in order, admitting sequences on their
     * first rows; returns the entries that can run (rows of preempted sequences removed) with
     * {@code tokens} unchanged, and the preempted sequences.
     */
    public Pass<T> reserveArrived(List<Entry<T>> arrived) {
        List<Entry<T>> entries = new ArrayList<>();
        List<StageSequence<T>> preempted = new ArrayList<>();
        List<StageSequence<T>> missed = new ArrayList<>();
        List<StageSequence<T>> tooLarge = new ArrayList<>();
        int rows = 0;
        for (Entry<T> e : arrived) {
            StageSequence<T> s = e.sequence();
            if (table.get(s.id) != s) {
                continue;
            }
            boolean fresh = !s.admitted();
            table.admit(s);
            if (fresh && e.cachedPrefix() > 0) {
                s.cachedPrefix = e.cachedPrefix();
                if (!table.kv().attachPrefix(s.cache, e.tokens(), e.cachedPrefix())) {
                    table.kv().prefixMissed();
                    table.free(s.id);
                    missed.add(s);
                    continue;
                }
            }
            if (reserve(s, e.rows(), entries, preempted, tooLarge)) {
                entries.add(e);
                rows += e.rows();
            }
        }
        return new Pass<>(entries, null, rows, preempted, missed, tooLarge);
    }

    private static boolean decodes(StageSequence<?> s) {
        return s.cache.length() > 0 && s.pendingLen == 1;
    }

    /**
     * Reserves {@code rows} for {@code s}, preempting the youngest admitted sequences until they fit;
     * false if {@code s} itself was preempted (or nothing could make room). A sequence that would
     * need more than the whole budget is freed into {@code tooLarge} instead, preempting nothing:
     * re-submitted, it would only grow back to the same wall (a later stage can hold less than
     * stage 0, which admitted it, and any stage less than prompt + max tokens).
     */
    private boolean reserve(StageSequence<T> s, int rows, List<Entry<T>> entries, List<StageSequence<T>> preempted,
                            List<StageSequence<T>> tooLarge) {
        StageKv kv = table.kv();
        if (kv.blocksFor(s.cache.length() + rows) > kv.totalBlocks()) {
            table.free(s.id);
            tooLarge.add(s);
            return false;
        }
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

    /**
     * Takes the leading blocks of a new sequence's prompt from the prefix cache: they are attached
     * to its cache and leave its pending tokens, so only the rest is computed. The admission check
     * above counted the whole prompt, which bounds what the attach makes un-evictable.
     */
    private void attachCached(StageSequence<T> s) {
        s.prefixChecked = true;
        if (!s.usePrefix || s.startSent || s.cache.length() != 0) {
            return;
        }
        StageKv kv = table.kv();
        int n = kv.cachedPrefix(s.pendingTokens(), s.pendingLen);
        if (n > 0 && kv.attachPrefix(s.cache, s.pendingTokens(), n)) {
            s.takePending(n, new int[n], 0);
            s.cachedPrefix = n;
        }
    }
}
