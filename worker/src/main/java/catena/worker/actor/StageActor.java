package catena.worker.actor;

import catena.shard.sample.SamplingParams;
import catena.worker.actor.SequenceEvent.EndReason;
import catena.worker.actor.SequenceEvent.SequenceFailed;
import catena.worker.actor.SequenceEvent.TokenSampled;
import catena.worker.engine.SequenceCache;
import catena.worker.engine.StageEngine;
import catena.worker.engine.StageEngineFactory;
import catena.worker.serial.ClusterMessage;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One pipeline stage: layers [fromLayer, toLayerExclusive) of a model and the KV cache of every
 * sequence passing through. Everything that arrives while a forward pass runs is processed as ONE
 * batch next (continuous batching): stage 0 embeds pending tokens (prompt chunks and fed-back
 * tokens), later stages take the rows of every {@link Forward} received. The last stage samples
 * each sequence's next token, tells the sequence's sink, and feeds the token back to stage 0 (the
 * ring) unless the sequence ended or its sink asked to {@link Throttle pause}. The forward pass
 * runs on the stage's own compute thread, never on the actor dispatcher; its result comes back
 * as a message, so {@link Free} and {@link GetStats} are answered while it runs.
 */
public final class StageActor {
    /** Workers register their stage under this key; the coordinator finds them with it. */
    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "catena-stage");

    /** Prompt rows one batch takes (chunked prefill), so decoding sequences keep moving. */
    static final int PREFILL_ROWS_PER_BATCH = 64;
    /** Activation bytes one batch may send: below Artery's maximum-frame-size (2 MiB, see reference.conf). */
    static final int MAX_BATCH_BYTES = 1536 * 1024;
    /** Freed sequence ids remembered, so rows or starts arriving after a Free are dropped, not revived. */
    private static final int TOMBSTONES = 1 << 16;

    /** Messages a stage understands. */
    public sealed interface Command {
    }

    /**
     * Load layers [fromLayer, toLayerExclusive) of the GGUF at modelPath; send the output to
     * {@code next} (stage 0 for the last stage). A stage already loaded drops its sequences and reloads.
     */
    public record Load(String modelPath, boolean keepF32, int stageIndex, int stageCount, int fromLayer,
                       int toLayerExclusive, ActorRef<Command> next, ActorRef<LoadReply> replyTo)
            implements Command, ClusterMessage {
    }

    /**
     * Start a sequence (sent to stage 0): prefill {@code prompt}, then generate up to maxTokens;
     * {@code logprobs}: alternatives to report with each token (-1 = no log-probabilities).
     */
    public record Start(long sequenceId, int[] prompt, SamplingParams sampling, int maxTokens, int[] endIds,
                        int logprobs, ActorRef<SequenceEvent> sink) implements Command, ClusterMessage {
        @Override
        public String toString() {
            return "Start[" + sequenceId + ", prompt=" + prompt.length + " tokens, maxTokens=" + maxTokens + "]";
        }
    }

    /**
     * Rows of one sequence inside a {@link Forward}: {@code count} consecutive rows; {@code sample}:
     * the last row ends the known tokens; {@code start}: set on the sequence's first rows (else null).
     */
    public record Rows(long sequenceId, int count, boolean sample, Start start) {
    }

    /**
     * Hidden rows of one batch from the previous stage: {@code data} is [rows][dim] row-major;
     * {@code tokens} the token id of each row.
     */
    public record Forward(List<Rows> sequences, int[] tokens, float[] data, int dim) implements Command, ClusterMessage {
        @Override
        public String toString() {
            return "Forward[" + sequences.size() + " sequences, " + data.length / Math.max(1, dim) + " rows]";
        }
    }

    /** The ring: the last stage's sampled token, to be embedded by stage 0. */
    public record NextToken(long sequenceId, int token) implements Command, ClusterMessage {
    }

    /** Drop the sequence and its KV cache. */
    public record Free(long sequenceId) implements Command, ClusterMessage {
    }

    /** Hold (pause) or release the ring for one sequence whose client reads slowly (last stage). */
    public record Throttle(long sequenceId, boolean pause) implements Command, ClusterMessage {
    }

    /** Report the stage's counters. */
    public record GetStats(ActorRef<StageStats> replyTo) implements Command, ClusterMessage {
    }

    /** Replies to {@link Load}. */
    public sealed interface LoadReply extends ClusterMessage {
    }

    /** The stage holds its layers and serves. */
    public record StageLoaded(int stageIndex, int fromLayer, int toLayerExclusive, ActorRef<Command> stage)
            implements LoadReply {
    }

    /** The stage could not load. */
    public record StageFailed(int stageIndex, String reason) implements LoadReply {
    }

    /**
     * Counters: sequences and KV bytes held now; batches and rows since load; batches with more
     * than one sequence and the largest batch (in sequences). stageIndex -1 = not loaded.
     */
    public record StageStats(int stageIndex, int fromLayer, int toLayerExclusive, int sequences, long cacheBytes,
                             long batches, long rows, long multiSequenceBatches, int maxBatchSequences)
            implements ClusterMessage {
    }

    private record Loaded(Load load, StageEngine engine, Throwable failure) implements Command {
    }

    private record Computed(Job job, Throwable failure) implements Command {
    }

    /** Creates an unloaded stage; it loads on {@link Load}. */
    public static Behavior<Command> create(StageEngineFactory engines) {
        return Behaviors.setup(ctx -> Behaviors.withStash(1024, stash -> new StageActor(ctx, stash, engines).idle()));
    }

    private final ActorContext<Command> ctx;
    private final StashBuffer<Command> stash;
    private final StageEngineFactory engines;
    private final ExecutorService compute;

    // Loaded state (valid in ready()).
    private Load load;
    private StageEngine engine;
    private boolean first;
    private boolean last;
    private int maxRows;
    private final Map<Long, Seq> seqs = new LinkedHashMap<>();
    private final ArrayDeque<Forward> inbox = new ArrayDeque<>();
    private final Map<Long, Boolean> freed = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > TOMBSTONES;
        }
    };
    private boolean busy;
    private LogitsBuffer logits;

    private long batches;
    private long rowsTotal;
    private long multiSequenceBatches;
    private int maxBatchSequences;

    private StageActor(ActorContext<Command> ctx, StashBuffer<Command> stash, StageEngineFactory engines) {
        this.ctx = ctx;
        this.stash = stash;
        this.engines = engines;
        String name = "catena-stage-compute-" + ctx.getSelf().path().name();
        this.compute = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Not loaded: waits for {@link Load}. */
    private Behavior<Command> idle() {
        return Behaviors.receive(Command.class)
                .onMessage(Load.class, this::onLoad)
                .onMessage(GetStats.class, m -> {
                    m.replyTo().tell(new StageStats(-1, 0, 0, 0, 0, 0, 0, 0, 0));
                    return Behaviors.same();
                })
                .onMessage(Start.class, m -> {
                    m.sink().tell(new SequenceFailed(m.sequenceId(), "stage is not loaded"));
                    return Behaviors.same();
                })
                .onSignal(PostStop.class, s -> stop())
                .onAnyMessage(m -> {
                    ctx.getLog().warn("stage [{}] not loaded: dropping {}", ctx.getSelf().path().name(), m);
                    return Behaviors.same();
                })
                .build();
    }

    private Behavior<Command> onLoad(Load m) {
        dropAll();
        ctx.getLog().info("stage [{}] loading layers [{}, {}) of {}", m.stageIndex(), m.fromLayer(),
                m.toLayerExclusive(), m.modelPath());
        CompletableFuture<StageEngine> f = CompletableFuture.supplyAsync(() -> {
            try {
                return engines.open(Path.of(m.modelPath()), m.keepF32(), m.fromLayer(), m.toLayerExclusive());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, compute);
        ctx.pipeToSelf(f, (engine, failure) -> new Loaded(m, engine, failure));
        return loading();
    }

    /** Loading: everything but the result waits in the stash. */
    private Behavior<Command> loading() {
        return Behaviors.receive(Command.class)
                .onMessage(Loaded.class, this::onLoaded)
                .onSignal(PostStop.class, s -> stop())
                .onAnyMessage(m -> {
                    stash.stash(m);
                    return Behaviors.same();
                })
                .build();
    }

    private Behavior<Command> onLoaded(Loaded m) {
        if (m.failure() != null) {
            Throwable cause = m.failure() instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                    ? c.getCause() : m.failure();
            String reason = "stage " + m.load().stageIndex() + " could not load layers [" + m.load().fromLayer() + ", "
                    + m.load().toLayerExclusive() + ") of " + m.load().modelPath() + ": " + cause.getMessage();
            ctx.getLog().error(reason, cause);
            m.load().replyTo().tell(new StageFailed(m.load().stageIndex(), reason));
            return stash.unstashAll(idle());
        }
        load = m.load();
        engine = m.engine();
        first = engine.hasEmbedding();
        last = engine.hasHead();
        maxRows = Math.max(1, MAX_BATCH_BYTES / (engine.dim() * Float.BYTES));
        logits = last ? new LogitsBuffer(engine.vocabSize()) : null;
        batches = 0;
        rowsTotal = 0;
        multiSequenceBatches = 0;
        maxBatchSequences = 0;
        ctx.getLog().info("stage [{}] ready: layers [{}, {}), embedding={}, head={}", load.stageIndex(),
                load.fromLayer(), load.toLayerExclusive(), first, last);
        load.replyTo().tell(new StageLoaded(load.stageIndex(), load.fromLayer(), load.toLayerExclusive(), ctx.getSelf()));
        return stash.unstashAll(ready());
    }

    /** Loaded: serves sequences. */
    private Behavior<Command> ready() {
        return Behaviors.receive(Command.class)
                .onMessage(Command.class, this::onCommand)
                .onSignal(PostStop.class, s -> stop())
                .build();
    }

    private Behavior<Command> onCommand(Command c) {
        switch (c) {
            case Load m -> {
                return onLoad(m);
            }
            case Start m -> onStart(m);
            case Forward m -> onForward(m);
            case NextToken m -> onNextToken(m);
            case Free m -> onFree(m);
            case Throttle m -> onThrottle(m);
            case GetStats m -> m.replyTo().tell(stats());
            case Computed m -> onComputed(m);
            case Loaded m -> ctx.getLog().warn("stage [{}] unexpected load result while ready", load.stageIndex());
        }
        return Behaviors.same();
    }

    private void onStart(Start m) {
        if (!first) {
            m.sink().tell(new SequenceFailed(m.sequenceId(), "stage " + load.stageIndex() + " does not embed tokens"));
            return;
        }
        if (freed.containsKey(m.sequenceId()) || seqs.containsKey(m.sequenceId())) {
            return;
        }
        Seq s = new Seq(m.sequenceId(), engine.newCache(), m);
        s.pending = Arrays.copyOf(m.prompt(), Math.max(16, m.prompt().length));
        s.pendingLen = m.prompt().length;
        if (last) {
            s.initHistory(m.prompt());
        }
        seqs.put(m.sequenceId(), s);
        runNext();
    }

    private void onForward(Forward m) {
        inbox.add(m);
        runNext();
    }

    private void onNextToken(NextToken m) {
        Seq s = seqs.get(m.sequenceId());
        if (s == null) {
            return;
        }
        if (s.pendingLen == s.pending.length) {
            s.pending = Arrays.copyOf(s.pending, s.pending.length * 2);
        }
        s.pending[s.pendingLen++] = m.token();
        runNext();
    }

    private void onFree(Free m) {
        freed.put(m.sequenceId(), Boolean.TRUE);
        if (seqs.remove(m.sequenceId()) != null) {
            ctx.getLog().debug("stage [{}] freed sequence [{}]", load.stageIndex(), m.sequenceId());
        }
    }

    private void onThrottle(Throttle m) {
        Seq s = seqs.get(m.sequenceId());
        if (s == null) {
            return;
        }
        s.paused = m.pause();
        if (!s.paused && s.held >= 0) {
            int token = s.held;
            s.held = -1;
            load.next().tell(new NextToken(s.id, token));
        }
    }

    /** Starts a forward pass over everything that has arrived, unless one is running. */
    private void runNext() {
        if (busy) {
            return;
        }
        Job job = first ? gatherTokens() : gatherRows();
        if (job == null) {
            return;
        }
        busy = true;
        StageEngine e = engine;
        LogitsBuffer lg = logits;
        CompletableFuture<Job> f = CompletableFuture.supplyAsync(() -> job.run(e, lg), compute);
        ctx.pipeToSelf(f, (done, failure) -> new Computed(job, failure));
    }

    /** Stage 0: pending tokens of every sequence (a prompt chunk or one fed-back token each). */
    private Job gatherTokens() {
        int size = 0;
        int rows = 0;
        int prefill = 0;
        for (Seq s : seqs.values()) {
            if (s.pendingLen > 0) {
                size++;
            }
        }
        if (size == 0) {
            return null;
        }
        Job job = new Job(size);
        int[] tokens = new int[Math.min(maxRows, sumPending())];
        for (Seq s : seqs.values()) {
            if (s.pendingLen == 0) {
                continue;
            }
            int take = s.pendingLen;
            if (take > 1) {
                take = Math.min(take, Math.max(1, PREFILL_ROWS_PER_BATCH - prefill));
                prefill += take;
            }
            take = Math.min(take, maxRows - rows);
            if (take <= 0) {
                break;
            }
            System.arraycopy(s.pending, 0, tokens, rows, take);
            System.arraycopy(s.pending, take, s.pending, 0, s.pendingLen - take);
            s.pendingLen -= take;
            Start start = s.startSent ? null : s.start;
            s.startSent = true;
            job.add(s, take, s.pendingLen == 0, start);
            rows += take;
        }
        job.tokens = rows == tokens.length ? tokens : Arrays.copyOf(tokens, rows);
        job.embed = true;
        job.rows = rows;
        job.x = new float[rows * engine.dim()];
        return job;
    }

    private int sumPending() {
        int n = 0;
        for (Seq s : seqs.values()) {
            n += s.pendingLen;
        }
        return n;
    }

    /** Later stages: the rows of every Forward received, each sequence at most once per batch. */
    private Job gatherRows() {
        if (inbox.isEmpty()) {
            return null;
        }
        int dim = engine.dim();
        java.util.HashSet<Long> inBatch = new java.util.HashSet<>();
        java.util.ArrayList<Forward> taken = new java.util.ArrayList<>();
        int rows = 0;
        int entries = 0;
        while (!inbox.isEmpty()) {
            Forward f = inbox.peek();
            boolean clash = false;
            for (Rows r : f.sequences()) {
                clash |= inBatch.contains(r.sequenceId());
            }
            int fRows = f.data().length / dim;
            if (clash || (!taken.isEmpty() && rows + fRows > maxRows)) {
                break;
            }
            inbox.poll();
            taken.add(f);
            for (Rows r : f.sequences()) {
                inBatch.add(r.sequenceId());
            }
            rows += fRows;
            entries += f.sequences().size();
        }
        Job job = new Job(entries);
        float[] x = new float[rows * dim];
        int[] tokens = new int[rows];
        int row = 0;
        int n = 0;
        for (Forward f : taken) {
            if (f.dim() != dim) {
                throw new IllegalStateException("stage " + load.stageIndex() + ": activations dim=" + f.dim()
                        + ", expected " + dim);
            }
            int src = 0;
            for (Rows r : f.sequences()) {
                Seq s = admit(r);
                if (s != null) {
                    System.arraycopy(f.data(), src * dim, x, row * dim, r.count() * dim);
                    System.arraycopy(f.tokens(), src, tokens, row, r.count());
                    job.add(s, r.count(), r.sample(), r.start());
                    row += r.count();
                    n++;
                }
                src += r.count();
            }
        }
        if (n == 0) {
            return inbox.isEmpty() ? null : gatherRows();
        }
        job.rows = row;
        job.x = row * dim == x.length ? x : Arrays.copyOf(x, row * dim);
        job.tokens = row == tokens.length ? tokens : Arrays.copyOf(tokens, row);
        return job;
    }

    /** The state of the sequence whose rows arrived, created on its first rows; null if freed. */
    private Seq admit(Rows r) {
        Seq s = seqs.get(r.sequenceId());
        if (s != null || r.start() == null || freed.containsKey(r.sequenceId())) {
            return s;
        }
        s = new Seq(r.sequenceId(), engine.newCache(), r.start());
        if (last) {
            s.initHistory(r.start().prompt());
        }
        seqs.put(s.id, s);
        return s;
    }

    private void onComputed(Computed m) {
        busy = false;
        Job job = m.job();
        if (m.failure() != null) {
            Throwable cause = m.failure().getCause() != null ? m.failure().getCause() : m.failure();
            ctx.getLog().error("stage [{}] forward pass failed for {} sequences", load.stageIndex(), job.size, cause);
            for (int i = 0; i < job.size; i++) {
                Seq s = seqs.remove(job.seqs[i].id);
                if (s != null) {
                    s.start.sink().tell(new SequenceFailed(s.id, "stage " + load.stageIndex() + " failed: " + cause));
                }
            }
            runNext();
            return;
        }
        count(job);
        if (last) {
            for (int i = 0; i < job.size; i++) {
                if (job.sample[i]) {
                    emit(job.seqs[i], job.sampled[i], job.logprobs[i]);
                }
            }
        } else {
            List<Rows> out = new java.util.ArrayList<>(job.size);
            for (int i = 0; i < job.size; i++) {
                out.add(new Rows(job.seqs[i].id, job.counts[i], job.sample[i], job.starts[i]));
            }
            load.next().tell(new Forward(out, job.tokens, job.x, engine.dim()));
        }
        runNext();
    }

    /** Last stage: tells the sink and feeds the token back into the ring unless the sequence ended. */
    private void emit(Seq s, int token, SequenceEvent.Logprob logprob) {
        if (seqs.get(s.id) != s || s.ended) {
            return;
        }
        int step = s.generated++;
        s.appendHistory(token);
        EndReason end = EndReason.NONE;
        if (contains(s.start.endIds(), token)) {
            end = EndReason.EOS;
        } else if (s.generated >= s.start.maxTokens() || s.cache.length() >= engine.contextLength()) {
            end = EndReason.LENGTH;
        }
        s.start.sink().tell(new TokenSampled(s.id, token, step, end, logprob));
        if (end != EndReason.NONE) {
            s.ended = true;
        } else if (s.paused) {
            s.held = token;
        } else {
            load.next().tell(new NextToken(s.id, token));
        }
    }

    private static boolean contains(int[] ids, int id) {
        for (int v : ids) {
            if (v == id) {
                return true;
            }
        }
        return false;
    }

    private void count(Job job) {
        batches++;
        rowsTotal += job.rows;
        if (job.size > 1) {
            multiSequenceBatches++;
        }
        maxBatchSequences = Math.max(maxBatchSequences, job.size);
        if (ctx.getLog().isDebugEnabled()) {
            ctx.getLog().debug("stage [{}] batch: sequences={} rows={}", load.stageIndex(), job.size, job.rows);
        }
    }

    private StageStats stats() {
        long bytes = 0;
        for (Seq s : seqs.values()) {
            bytes += s.cache.bytes();
        }
        return new StageStats(load.stageIndex(), load.fromLayer(), load.toLayerExclusive(), seqs.size(), bytes,
                batches, rowsTotal, multiSequenceBatches, maxBatchSequences);
    }

    private void dropAll() {
        seqs.clear();
        inbox.clear();
        if (engine != null) {
            // Closed on the compute thread, after any forward pass still using it.
            compute.execute(engine::close);
            engine = null;
        }
    }

    private Behavior<Command> stop() {
        dropAll();
        compute.shutdownNow();
        return Behaviors.same();
    }

    /** Logits of the sequences sampled in one batch, [count][vocab]; grown as needed, used by the compute thread only. */
    private static final class LogitsBuffer {
        private final int vocab;
        private float[] data = new float[0];

        LogitsBuffer(int vocab) {
            this.vocab = vocab;
        }

        float[] get(int count) {
            if (data.length < count * vocab) {
                data = new float[count * vocab];
            }
            return data;
        }
    }

    /** One sequence on this stage. Mutated only by the actor. */
    private static final class Seq {
        final long id;
        final SequenceCache cache;
        final Start start;
        int[] pending = new int[0];
        int pendingLen;
        boolean startSent;
        int[] history;
        int historyLen;
        int generated;
        boolean paused;
        boolean ended;
        int held = -1;

        Seq(long id, SequenceCache cache, Start start) {
            this.id = id;
            this.cache = cache;
            this.start = start;
        }

        void initHistory(int[] prompt) {
            history = Arrays.copyOf(prompt, prompt.length + Math.max(16, start.maxTokens()));
            historyLen = prompt.length;
        }

        void appendHistory(int token) {
            if (historyLen == history.length) {
                history = Arrays.copyOf(history, history.length * 2);
            }
            history[historyLen++] = token;
        }
    }

    /**
     * One forward pass: built by the actor, run on the compute thread, read back by the actor.
     * The compute thread reads the caches and (last stage) histories, which the actor does not
     * touch while the job runs.
     */
    private static final class Job {
        final Seq[] seqs;
        final SequenceCache[] caches;
        final int[] counts;
        final boolean[] sample;
        final Start[] starts;
        final int[] sampled;
        final SequenceEvent.Logprob[] logprobs;
        final int[] steps;
        int size;
        int rows;
        int[] tokens;
        boolean embed;
        float[] x;

        Job(int capacity) {
            seqs = new Seq[capacity];
            caches = new SequenceCache[capacity];
            counts = new int[capacity];
            sample = new boolean[capacity];
            starts = new Start[capacity];
            sampled = new int[capacity];
            logprobs = new SequenceEvent.Logprob[capacity];
            steps = new int[capacity];
        }

        void add(Seq s, int count, boolean sampleLast, Start start) {
            int i = size++;
            seqs[i] = s;
            caches[i] = s.cache;
            counts[i] = count;
            sample[i] = sampleLast;
            starts[i] = start;
            steps[i] = s.generated;
        }

        Job run(StageEngine engine, LogitsBuffer heads) {
            if (embed) {
                engine.embed(tokens, rows, x);
            }
            engine.forward(caches, counts, size, tokens, x);
            if (heads != null) {
                // One pass over the output head for every sequence that samples in this batch.
                int[] rows = new int[size];
                int n = 0;
                int row = 0;
                for (int i = 0; i < size; i++) {
                    row += counts[i];
                    if (sample[i]) {
                        rows[n++] = row - 1;
                    }
                }
                if (n == 0) {
                    return this;
                }
                float[] logits = heads.get(n);
                engine.logits(x, rows, n, logits);
                int vocab = engine.vocabSize();
                for (int i = 0, k = 0; i < size; i++) {
                    if (sample[i]) {
                        Seq s = seqs[i];
                        int off = k++ * vocab;
                        sampled[i] = engine.sample(logits, off, s.start.sampling(), steps[i], s.history,
                                s.historyLen);
                        int top = s.start.logprobs();
                        if (top >= 0) {
                            int[] ids = new int[top];
                            float[] lps = new float[top];
                            float lp = catena.shard.sample.Logprobs.top(logits, off, vocab, sampled[i], ids, lps);
                            logprobs[i] = new SequenceEvent.Logprob(lp, ids, lps);
                        }
                    }
                }
            }
            return this;
        }
    }
}
