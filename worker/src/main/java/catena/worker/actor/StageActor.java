package catena.worker.actor;

import catena.shard.sample.SamplingParams;
import catena.worker.actor.SequenceEvent.EndReason;
import catena.worker.actor.SequenceEvent.SequenceFailed;
import catena.worker.actor.SequenceEvent.SequenceInterrupted;
import catena.worker.actor.SequenceEvent.SequenceProgress;
import catena.worker.actor.SequenceEvent.SequenceRejected;
import catena.worker.actor.SequenceEvent.TokenSampled;
import catena.worker.engine.BlockBudget;
import catena.worker.engine.PrefixStats;
import catena.worker.engine.StageEngine;
import catena.worker.engine.StageEngineFactory;
import catena.worker.engine.StageWarmup;
import catena.worker.link.LinkSender;
import catena.worker.link.LinkServer;
import catena.worker.serial.ClusterMessage;
import catena.worker.stage.SequenceTable;
import catena.worker.stage.StageScheduler;
import catena.worker.stage.StageScheduler.Entry;
import catena.worker.stage.StageScheduler.Pass;
import catena.worker.stage.StageSequence;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One worker's stage: holds layers [fromLayer, toLayerExclusive) of a model as stage
 * {@code stageIndex} of replica {@code replica}, and the KV cache of every sequence passing
 * through, within a KV memory budget. States: {@link #idle() idle} (nothing held) →
 * {@link #loading() loading} → {@link #serving() serving} (in a replica) or {@link #standby()
 * standby} (a hot spare holding layers) → {@link #draining() draining} (SIGTERM: finishing or
 * handing off its sequences before the node leaves).
 *
 * <p>Everything that arrives while a forward pass runs is processed as ONE batch next (continuous
 * batching); the {@link StageScheduler} decides the rows and KV reservations, the actor only moves
 * messages. Every message of the ring carries the replica's epoch; a message of another epoch is
 * dropped and counted (a sequence started under it is told to re-submit). The forward pass runs
 * on the stage's compute executor; its result comes back as a message. Ring messages (activations,
 * sampled tokens) go to the next stage over its activation link when it has one
 * ({@code catena.worker.link}), everything else over Pekko remoting.
 */
public final class StageActor {
    /** Workers register their stage under this key; the plan owner finds them with it. */
    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "catena-stage");

    /** Activation bytes one batch may send: below Artery's maximum-frame-size (2 MiB, see reference.conf). */
    static final int MAX_BATCH_BYTES = 1536 * 1024;
    /** Longest a drain waits for sequences to move before the node leaves anyway. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(20);
    /** A next stage that does not accept within this is reached over remoting instead. */
    static final Duration LINK_CONNECT_TIMEOUT = Duration.ofSeconds(2);

    /**
     * What a stage is given at start: its KV memory budget and scheduler settings, the memory and
     * cores it advertises to the plan owner, and the executor its forward passes run on.
     */
    public record Settings(long kvMemoryBytes, int kvBlockTokens, int maxBatchTokens, double prefillRatio,
                           int reserveTokens, int maxWaiting, long memoryBytes, int cores, int warmupRounds,
                           ExecutorService compute, boolean prefixCache, Link link) {
        /** Settings without an activation link of its own (the ring reaches this stage over remoting). */
        public Settings(long kvMemoryBytes, int kvBlockTokens, int maxBatchTokens, double prefillRatio,
                        int reserveTokens, int maxWaiting, long memoryBytes, int cores, int warmupRounds,
                        ExecutorService compute, boolean prefixCache) {
            this(kvMemoryBytes, kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens, maxWaiting, memoryBytes,
                    cores, warmupRounds, compute, prefixCache, null);
        }

        /** Settings with the prefix cache on. */
        public Settings(long kvMemoryBytes, int kvBlockTokens, int maxBatchTokens, double prefillRatio,
                        int reserveTokens, int maxWaiting, long memoryBytes, int cores, int warmupRounds,
                        ExecutorService compute) {
            this(kvMemoryBytes, kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens, maxWaiting, memoryBytes,
                    cores, warmupRounds, compute, true);
        }
    }

    /**
     * Where the stage accepts ring messages on an activation link ({@code catena.worker.link}): the
     * address its node's remoting advertises, {@code port} 0 for any free one.
     */
    public record Link(String host, int port) {
    }

    /** Messages a stage understands. */
    public sealed interface Command {
    }

    /**
     * Hold layers [fromLayer, toLayerExclusive) of the GGUF at modelPath as stage {@code stageIndex}
     * of replica {@code replica} under {@code epoch}, sending output to {@code next} (stage 0 for the
     * last stage). Idempotent: a stage that holds those layers already only rewires, dropping the
     * sequences of its previous epoch. {@code nextLink}: the next stage's activation link ("" = none:
     * ring messages to it go over remoting).
     */
    public record Assign(String modelPath, boolean keepF32, int replica, long epoch, int stageIndex, int stageCount,
                         int fromLayer, int toLayerExclusive, ActorRef<Command> next, ActorRef<AssignReply> replyTo,
                         String nextLink)
            implements Command, ClusterMessage {
        /** Ring messages to {@code next} over remoting. */
        public Assign(String modelPath, boolean keepF32, int replica, long epoch, int stageIndex, int stageCount,
                      int fromLayer, int toLayerExclusive, ActorRef<Command> next, ActorRef<AssignReply> replyTo) {
            this(modelPath, keepF32, replica, epoch, stageIndex, stageCount, fromLayer, toLayerExclusive, next,
                    replyTo, "");
        }
    }

    /** Leave the replica of {@code epoch} and stand by as a spare (layers kept). Ignored for another epoch. */
    public record Unassign(long epoch) implements Command, ClusterMessage {
    }

    /** Report what this worker offers and holds. */
    public record Describe(ActorRef<WorkerDescription> replyTo) implements Command, ClusterMessage {
    }

    /**
     * A worker's offer: memory it may use for weights + KV, its cores, and what it holds (model ""
     * and epoch -1 when nothing; replica -1 when a spare holding layers); {@code draining} when it
     * is leaving; {@code link}: its activation link, "host:port" ("" = none).
     */
    public record WorkerDescription(ActorRef<Command> stage, long memoryBytes, int cores, String model, int fromLayer,
                                    int toLayerExclusive, int replica, int stageIndex, long epoch, boolean draining,
                                    String link)
            implements ClusterMessage {
        /** A worker without an activation link. */
        public WorkerDescription(ActorRef<Command> stage, long memoryBytes, int cores, String model, int fromLayer,
                                 int toLayerExclusive, int replica, int stageIndex, long epoch, boolean draining) {
            this(stage, memoryBytes, cores, model, fromLayer, toLayerExclusive, replica, stageIndex, epoch, draining,
                    "");
        }
    }

    /**
     * Start a sequence (sent to stage 0 under {@code epoch}): run {@code prompt} (the prompt plus
     * any tokens already streamed on another attempt, {@code firstStep} of them), then generate up
     * to maxTokens more; {@code logprobs}: alternatives to report with each token (-1 = none);
     * {@code prefixCache}: whether stage 0 may take the prompt's leading blocks from its prefix cache;
     * {@code relay}: where the last stage sends the sampled tokens, one {@link RelayedEvents} per
     * pass for all the sequences of the same relay, and every other event of the sequence the same way
     * (null: each event to {@code sink} on its own).
     */
    public record Start(long sequenceId, long epoch, int[] prompt, int firstStep, SamplingParams sampling,
                        int maxTokens, int[] endIds, int logprobs, ActorRef<SequenceEvent> sink, boolean prefixCache,
                        boolean resumed, ActorRef<RelayedEvents> relay)
            implements Command, ClusterMessage {
        /** Tokens to {@code sink} one by one. */
        public Start(long sequenceId, long epoch, int[] prompt, int firstStep, SamplingParams sampling, int maxTokens,
                     int[] endIds, int logprobs, ActorRef<SequenceEvent> sink, boolean prefixCache, boolean resumed) {
            this(sequenceId, epoch, prompt, firstStep, sampling, maxTokens, endIds, logprobs, sink, prefixCache, resumed,
                    null);
        }

        /** A first attempt that may use the prefix cache. */
        public Start(long sequenceId, long epoch, int[] prompt, int firstStep, SamplingParams sampling, int maxTokens,
                     int[] endIds, int logprobs, ActorRef<SequenceEvent> sink) {
            this(sequenceId, epoch, prompt, firstStep, sampling, maxTokens, endIds, logprobs, sink, true, false);
        }

        /** A first attempt. */
        public Start(long sequenceId, long epoch, int[] prompt, int firstStep, SamplingParams sampling, int maxTokens,
                     int[] endIds, int logprobs, ActorRef<SequenceEvent> sink, boolean prefixCache) {
            this(sequenceId, epoch, prompt, firstStep, sampling, maxTokens, endIds, logprobs, sink, prefixCache, false);
        }

        @Override
        public String toString() {
            return "Start[" + sequenceId + ", epoch " + epoch + ", prompt=" + prompt.length + " tokens, firstStep="
                    + firstStep + ", maxTokens=" + maxTokens + "]";
        }
    }

    /**
     * Rows of one sequence inside a {@link Forward}: {@code count} consecutive rows; {@code sample}:
     * the last row ends the known tokens; {@code start}: set on the sequence's first rows (else null);
     * {@code cachedPrefix}: on the first rows, the leading prompt positions stage 0 took from its
     * prefix cache (the rows start after them; every later stage attaches the same positions).
     */
    public record Rows(long sequenceId, int count, boolean sample, Start start, int cachedPrefix) {
        public Rows(long sequenceId, int count, boolean sample, Start start) {
            this(sequenceId, count, sample, start, 0);
        }
    }

    /**
     * Hidden rows of one batch from the previous stage: {@code data} is [rows][dim] row-major;
     * {@code tokens} the token id of each row.
     */
    public record Forward(long epoch, List<Rows> sequences, int[] tokens, float[] data, int dim, long sentMicros)
            implements Command, ClusterMessage {
        @Override
        public String toString() {
            return "Forward[epoch " + epoch + ", " + sequences.size() + " sequences, "
                    + data.length / Math.max(1, dim) + " rows]";
        }
    }

    /**
     * The ring: the tokens the last stage sampled in one pass, to be embedded by stage 0. One
     * message per pass, so stage 0 sees them together and runs them in one pass.
     */
    public record NextTokens(long epoch, List<Fed> tokens, long sentMicros) implements Command, ClusterMessage {
        public NextTokens {
            tokens = List.copyOf(tokens);
        }
    }

    /** One sequence's next token. */
    public record Fed(long sequenceId, int token) {
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

    /**
     * Local (the worker's readiness endpoint): true when the stage serves its slot, or holds none
     * and waits for one (a spare); false while it loads layers or drains. A kubelet then counts a
     * replaced worker pod ready only once its layers are loaded, so a rolling update moves on only
     * when the replica it left is whole again.
     */
    public record IsReady(ActorRef<Boolean> replyTo) implements Command {
    }

    /** Stop admitting, let the sequences move or finish, then reply (from the node's shutdown). Local only. */
    public record Drain(ActorRef<Done> replyTo) implements Command {
    }

    /** Replies to {@link Assign}, and a draining stage's notice. */
    public sealed interface AssignReply extends ClusterMessage {
    }

    /** The stage holds its layers and serves under the epoch. */
    public record Assigned(int replica, long epoch, int stageIndex, ActorRef<Command> stage) implements AssignReply {
    }

    /** The stage could not load. */
    public record AssignFailed(int replica, long epoch, int stageIndex, ActorRef<Command> stage, String reason)
            implements AssignReply {
    }

    /** The stage is draining: plan without it. */
    public record Leaving(ActorRef<Command> stage) implements AssignReply {
    }

    /**
     * Counters: replica, epoch and layers (stageIndex -1 = not in a replica); sequences held and
     * waiting for admission, KV bytes held and blocks used / total; batches and rows since load,
     * batches of more than one sequence and the largest batch; preemptions, messages dropped for a
     * stale epoch, sequences refused for lack of KV memory; the prefix cache's counters.
     */
    public record StageStats(int replica, long epoch, int stageIndex, int fromLayer, int toLayerExclusive,
                             int sequences, int waiting, long cacheBytes, int kvBlocksUsed, int kvBlocksTotal, int kvBlockTokens,
                             long batches, long rows, long multiSequenceBatches, int maxBatchSequences,
                             long preemptions, long staleDropped, long rejected, long busyNanos, long hops,
                             long hopNanos, String kvType, long kvBytesPerToken, long kvPoolUsedBytes,
                             PrefixStats prefix, long linkHops) implements ClusterMessage {
        /** Stats of a stage without an activation link. */
        public StageStats(int replica, long epoch, int stageIndex, int fromLayer, int toLayerExclusive, int sequences,
                          int waiting, long cacheBytes, int kvBlocksUsed, int kvBlocksTotal, int kvBlockTokens,
                          long batches, long rows, long multiSequenceBatches, int maxBatchSequences, long preemptions,
                          long staleDropped, long rejected, long busyNanos, long hops, long hopNanos, String kvType,
                          long kvBytesPerToken, long kvPoolUsedBytes, PrefixStats prefix) {
            this(replica, epoch, stageIndex, fromLayer, toLayerExclusive, sequences, waiting, cacheBytes, kvBlocksUsed,
                    kvBlocksTotal, kvBlockTokens, batches, rows, multiSequenceBatches, maxBatchSequences, preemptions,
                    staleDropped, rejected, busyNanos, hops, hopNanos, kvType, kvBytesPerToken, kvPoolUsedBytes, prefix,
                    0);
        }

        /** Stats of a stage without a prefix cache. */
        public StageStats(int replica, long epoch, int stageIndex, int fromLayer, int toLayerExclusive, int sequences,
                          int waiting, long cacheBytes, int kvBlocksUsed, int kvBlocksTotal, int kvBlockTokens,
                          long batches, long rows, long multiSequenceBatches, int maxBatchSequences, long preemptions,
                          long staleDropped, long rejected, long busyNanos, long hops, long hopNanos, String kvType,
                          long kvBytesPerToken, long kvPoolUsedBytes) {
            this(replica, epoch, stageIndex, fromLayer, toLayerExclusive, sequences, waiting, cacheBytes, kvBlocksUsed,
                    kvBlocksTotal, kvBlockTokens, batches, rows, multiSequenceBatches, maxBatchSequences, preemptions,
                    staleDropped, rejected, busyNanos, hops, hopNanos, kvType, kvBytesPerToken, kvPoolUsedBytes,
                    PrefixStats.NONE);
        }
    }

    private record Loaded(Assign assign, StageEngine engine, Throwable failure) implements Command {
    }

    private record Computed(Job job, Throwable failure) implements Command {
    }

    private record SinkGone(ActorRef<SequenceEvent> sink) implements Command {
    }

    /** A ring message that came over the activation link (counted, then handled as any other). */
    private record ViaLink(Command message) implements Command {
    }

    private enum DrainTimeout implements Command {
        INSTANCE
    }

    /**
     * A pass may start: sent to self, so every message already in the mailbox (the tokens a pass
     * just fed back, a burst of starts) joins it instead of the first of them running alone.
     */
    private enum PassDue implements Command {
        INSTANCE
    }

    /** Creates a stage that holds nothing until it is assigned. */
    public static Behavior<Command> create(StageEngineFactory engines, Settings settings) {
        return Behaviors.setup(ctx -> Behaviors.withStash(4096,
                stash -> Behaviors.withTimers(timers -> new StageActor(ctx, stash, engines, settings).idle())));
    }

    private final ActorContext<Command> ctx;
    private final StashBuffer<Command> stash;
    private final StageEngineFactory engines;
    private final Settings settings;

    private StageEngine engine;
    private String modelPath = "";
    private boolean keepF32;
    /** The replica's wiring while serving; null in standby. */
    private Assign assignment;
    private SequenceTable<Start> table;
    private StageScheduler<Start> scheduler;
    private final ArrayDeque<Forward> inbox = new ArrayDeque<>();
    private final Map<ActorRef<SequenceEvent>, Set<Long>> sinks = new HashMap<>();
    private boolean busy;
    /** A {@link PassDue} is in the mailbox. */
    private boolean passDue;
    private float[] logitsBuffer = new float[0];
    private ActorRef<Done> drainReply;
    /** Accepts the previous stage's ring messages; null when the stage has no link of its own. */
    private final LinkServer linkServer;
    /** To {@code assignment.next()} when it has a link; null: ring messages go over remoting. */
    private LinkSender link;

    private long batches;
    private long rowsTotal;
    private long multiSequenceBatches;
    /** Time the compute thread spent in passes (forward, head and sampling), for the busy fraction. */
    private long busyNanos;
    /** Ring messages received from the previous stage, and their summed wall-clock transit. */
    private long hops;
    private long hopNanos;
    /** Of the hops, those that came over the activation link. */
    private long linkHops;
    private int maxBatchSequences;
    private long staleDropped;
    private long rejected;

    private StageActor(ActorContext<Command> ctx, StashBuffer<Command> stash, StageEngineFactory engines,
                       Settings settings) {
        this.ctx = ctx;
        this.stash = stash;
        this.engines = engines;
        this.settings = settings;
        this.linkServer = settings.link() == null ? null : openLink(settings.link());
    }

    private LinkServer openLink(Link l) {
        ActorRef<Command> self = ctx.getSelf();
        org.slf4j.Logger log = ctx.getLog();
        try {
            LinkServer server = LinkServer.start(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(ctx.getSystem()),
                    l.host(), l.port(), message -> {
                        if (message instanceof Forward || message instanceof NextTokens) {
                            self.tell(new ViaLink((Command) message));
                        } else {
                            log.warn("activation link: ignoring {}, not a ring message", message.getClass().getName());
                        }
                    });
            log.info("stage accepts ring messages on activation link {}", server.endpoint());
            return server;
        } catch (java.io.IOException e) {
            // The ring still works over remoting, only slower: serve, and say so.
            log.error("stage has no activation link; ring messages to it go over remoting: {}", e.getMessage());
            return null;
        }
    }

    // ---------------------------------------------------------------- states

    /** Holds nothing: waits for an assignment. */
    private Behavior<Command> idle() {
        return outOfReplica("stage is not assigned");
    }

    /** Loading layers: describes itself, stashes everything else. */
    private Behavior<Command> loading() {
        return Behaviors.receive(Command.class)
                .onMessage(Loaded.class, this::onLoaded)
                .onMessage(Describe.class, m -> describe(m, false))
                .onMessage(IsReady.class, m -> ready(m, false))
                .onSignal(PostStop.class, s -> stop())
                .onAnyMessage(m -> {
                    if (stash.isFull()) {
                        ctx.getLog().warn("stage stash full while loading: dropping {}", m);
                    } else {
                        stash.stash(m);
                    }
                    return Behaviors.same();
                })
                .build();
    }

    /** A hot spare holding layers (or a stage whose replica was dissolved): only an assignment makes it serve. */
    private Behavior<Command> standby() {
        return outOfReplica("stage is a spare, not in a replica");
    }

    /**
     * Idle and standby answer alike: an assignment loads (or, for the layers held, only rewires), a
     * sequence is refused with {@code why}, a drain has nothing to wait for.
     */
    private Behavior<Command> outOfReplica(String why) {
        return Behaviors.receive(Command.class)
                .onMessage(Assign.class, this::load)
                .onMessage(Describe.class, m -> describe(m, false))
                .onMessage(IsReady.class, m -> ready(m, true))
                .onMessage(GetStats.class, this::onGetStats)
                .onMessage(Start.class, m -> interrupt(m, why))
                .onMessage(Computed.class, m -> {
                    busy = false; // a pass of the replica just left
                    return Behaviors.same();
                })
                .onMessage(PassDue.class, m -> {
                    passDue = false;
                    return Behaviors.same();
                })
                .onMessage(Drain.class, m -> {
                    m.replyTo().tell(Done.getInstance());
                    return Behaviors.same();
                })
                .onSignal(PostStop.class, s -> stop())
                .onAnyMessage(m -> Behaviors.same())
                .build();
    }

    /** In a replica: serves sequences. */
    private Behavior<Command> serving() {
        return Behaviors.receive(Command.class)
                .onMessage(Command.class, this::onServing)
                .onSignal(PostStop.class, s -> stop())
                .build();
    }

    /** Leaving: no new sequences; the running ones move (their sessions re-submit) or finish. */
    private Behavior<Command> draining() {
        return Behaviors.receive(Command.class)
                .onMessage(Start.class, m -> interrupt(m, "stage is draining"))
                .onMessage(Assign.class, m -> {
                    m.replyTo().tell(new AssignFailed(m.replica(), m.epoch(), m.stageIndex(), ctx.getSelf(),
                            "stage is draining"));
                    return Behaviors.same();
                })
                .onMessage(Describe.class, m -> describe(m, true))
                .onMessage(DrainTimeout.class, m -> drained())
                .onMessage(IsReady.class, m -> ready(m, false))
                .onMessage(Command.class, m -> {
                    Behavior<Command> b = onServing(m);
                    return table == null || table.size() == 0 ? drained() : b;
                })
                .onSignal(PostStop.class, s -> stop())
                .build();
    }

    // ---------------------------------------------------------------- loading and wiring

    private Behavior<Command> load(Assign m) {
        if (engine != null && modelPath.equals(m.modelPath()) && keepF32 == m.keepF32()
                && engine.fromLayer() == m.fromLayer() && engine.toLayerExclusive() == m.toLayerExclusive()) {
            return wire(m);
        }
        dropSequences("stage reloads other layers");
        closeEngine();
        ctx.getLog().info("stage loading layers [{}, {}) of {} for replica [{}] stage [{}] epoch [{}]",
                m.fromLayer(), m.toLayerExclusive(), m.modelPath(), m.replica(), m.stageIndex(), m.epoch());
        org.slf4j.Logger log = ctx.getLog(); // the context is the actor's alone; the logger may travel
        CompletableFuture<StageEngine> f = CompletableFuture.supplyAsync(() -> {
            try {
                StageEngine e = engines.open(Path.of(m.modelPath()), m.keepF32(), m.fromLayer(), m.toLayerExclusive());
                // Before Assigned: the replica turns ready (and health SERVING) only with warm kernels.
                long nanos;
                try {
                    nanos = StageWarmup.run(e, settings.warmupRounds());
                } catch (RuntimeException | Error warmupFailure) {
                    e.close(); // its mapped weights and pool must not outlive a failed load
                    throw warmupFailure;
                }
                if (nanos > 0) {
                    log.info("stage warmed up layers [{}, {}) in {} ms", m.fromLayer(), m.toLayerExclusive(),
                            nanos / 1_000_000);
                }
                return e;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, settings.compute());
        ctx.pipeToSelf(f, (engine, failure) -> new Loaded(m, engine, failure));
        return loading();
    }

    private Behavior<Command> onLoaded(Loaded m) {
        Assign a = m.assign();
        if (m.failure() != null) {
            Throwable cause = m.failure() instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                    ? c.getCause() : m.failure();
            String reason = "stage " + a.stageIndex() + " of replica " + a.replica() + " could not load layers ["
                    + a.fromLayer() + ", " + a.toLayerExclusive() + ") of " + a.modelPath() + ": " + cause.getMessage();
            ctx.getLog().error(reason, cause);
            a.replyTo().tell(new AssignFailed(a.replica(), a.epoch(), a.stageIndex(), ctx.getSelf(), reason));
            modelPath = "";
            return stash.unstashAll(idle());
        }
        engine = m.engine();
        modelPath = a.modelPath();
        keepF32 = a.keepF32();
        long perToken = Math.max(1, engine.kvBytesPerToken());
        // the engine's pool holds what its budget allows: charge blocks against that same number
        long budget = engine.kvBudgetBytes() > 0 ? engine.kvBudgetBytes() : settings.kvMemoryBytes();
        table = new SequenceTable<>(new BlockBudget(engine, budget, settings.kvBlockTokens(), perToken,
                settings.prefixCache()));
        int maxRows = Math.max(1, MAX_BATCH_BYTES / (engine.dim() * Float.BYTES));
        scheduler = new StageScheduler<>(table, new StageScheduler.Settings(settings.maxBatchTokens(), maxRows,
                settings.reserveTokens(), settings.maxWaiting(), settings.prefillRatio()));
        batches = 0;
        rowsTotal = 0;
        multiSequenceBatches = 0;
        maxBatchSequences = 0;
        ctx.getLog().info("stage loaded layers [{}, {}): KV budget {} blocks of {} tokens ({} bytes each)",
                engine.fromLayer(), engine.toLayerExclusive(), table.kv().totalBlocks(), table.kv().blockTokens(),
                table.kv().bytesPerBlock());
        return stash.unstashAll(wire(a));
    }

    /** Serve as the assigned slot; the previous epoch's sequences are dropped (their sessions re-submit). */
    private Behavior<Command> wire(Assign m) {
        if (assignment == null || assignment.epoch() != m.epoch()) {
            dropSequences("replica " + m.replica() + " was re-planned (epoch " + m.epoch() + ")");
        }
        assignment = m;
        relink(m);
        ctx.getLog().info("stage serves replica [{}] stage [{}] of {} epoch [{}], layers [{}, {}), ring messages to"
                + " {}", m.replica(), m.stageIndex(), m.stageCount(), m.epoch(), m.fromLayer(), m.toLayerExclusive(),
                m.next().equals(ctx.getSelf()) ? "itself" : link != null ? "the next stage over activation link "
                        + link.endpoint() : "the next stage over remoting");
        m.replyTo().tell(new Assigned(m.replica(), m.epoch(), m.stageIndex(), ctx.getSelf()));
        return serving();
    }

    /**
     * Opens (or keeps) the link to the next stage. Before this stage sends anything of the new
     * assignment, so one epoch's ring messages all take one path and keep their order.
     */
    private void relink(Assign m) {
        String want = m.next().equals(ctx.getSelf()) ? "" : m.nextLink();
        if (link != null && (!link.isOpen() || !link.endpoint().equals(want))) {
            link.close();
            link = null;
        }
        if (link == null && !want.isEmpty()) {
            try {
                link = LinkSender.connect(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(ctx.getSystem()), want,
                        LINK_CONNECT_TIMEOUT);
            } catch (java.io.IOException e) {
                ctx.getLog().warn("stage: {}; ring messages to the next stage go over remoting", e.getMessage());
            }
        }
    }

    /** Sends a ring message to the next stage: over the link when there is one, else over remoting. */
    private void toNext(Command message) {
        if (link != null) {
            try {
                if (link.send(message)) {
                    return;
                }
            } catch (java.io.NotSerializableException e) {
                ctx.getLog().error("stage: cannot encode {} for the activation link", message.getClass().getName(), e);
            }
            // Closed: the next stage went away. Its replica is re-planned; remoting delivers or drops.
        }
        assignment.next().tell(message);
    }

    private Behavior<Command> ready(IsReady m, boolean ready) {
        m.replyTo().tell(ready);
        return Behaviors.same();
    }

    private Behavior<Command> describe(Describe m, boolean draining) {
        Assign a = assignment;
        m.replyTo().tell(new WorkerDescription(ctx.getSelf(), settings.memoryBytes(), settings.cores(),
                engine == null ? "" : modelPath, engine == null ? 0 : engine.fromLayer(),
                engine == null ? 0 : engine.toLayerExclusive(), a == null ? -1 : a.replica(),
                a == null ? -1 : a.stageIndex(), a == null ? -1 : a.epoch(), draining,
                linkServer == null ? "" : linkServer.endpoint()));
        return Behaviors.same();
    }

    // ---------------------------------------------------------------- serving

    private Behavior<Command> onServing(Command c) {
        switch (c) {
            case Assign m -> {
                return load(m);
            }
            case Unassign m -> {
                if (assignment != null && m.epoch() == assignment.epoch()) {
                    dropSequences("replica " + assignment.replica() + " was dissolved");
                    assignment = null;
                    if (link != null) {
                        link.close();
                        link = null;
                    }
                    return drainReply != null ? drained() : standby();
                }
            }
            case Describe m -> describe(m, drainReply != null);
            case IsReady m -> ready(m, drainReply == null);
            case Start m -> onStart(m);
            case Forward m -> onForward(m);
            case NextTokens m -> onNextTokens(m);
            case ViaLink m -> {
                linkHops++;
                return onServing(m.message());
            }
            case Free m -> free(m.sequenceId());
            case Throttle m -> onThrottle(m);
            case GetStats m -> onGetStats(m);
            case Computed m -> onComputed(m);
            case PassDue m -> {
                passDue = false;
                runNext();
            }
            case SinkGone m -> onSinkGone(m.sink());
            case Drain m -> {
                return startDrain(m);
            }
            case Loaded m -> ctx.getLog().warn("stage: unexpected load result while serving");
            case DrainTimeout m -> {
                return drained();
            }
        }
        return Behaviors.same();
    }

    private boolean stale(long epoch) {
        if (assignment != null && epoch == assignment.epoch()) {
            return false;
        }
        staleDropped++;
        return true;
    }

    private void onStart(Start m) {
        if (stale(m.epoch())) {
            interrupt(m, "stage is no longer in that replica's plan (epoch " + m.epoch() + ")");
            return;
        }
        if (!engine.hasEmbedding()) {
            tellOwner(m, new SequenceFailed(m.sequenceId(), "stage " + assignment.stageIndex()
                    + " does not embed tokens"));
            return;
        }
        if (table.wasFreed(m.sequenceId()) || table.get(m.sequenceId()) != null) {
            return;
        }
        switch (scheduler.offer(m.sequenceId(), m, m.prompt(), m.prefixCache(), m.resumed())) {
            case QUEUED -> {
                StageSequence<Start> s = table.get(m.sequenceId());
                if (engine.hasHead()) {
                    s.initHistory(m.prompt(), m.maxTokens());
                }
                watch(m.sink(), m.sequenceId());
                // It waits for KV memory or, admitted, for the prompts ahead of it to be prefilled
                // (oldest first): neither is a loss, however long it takes under load.
                tellOwner(m, new SequenceProgress(m.sequenceId(), 0, true));
                requestPass();
            }
            case TOO_LARGE -> {
                rejected++;
                tellOwner(m, new SequenceRejected(m.sequenceId(), "the prompt (" + m.prompt().length + " tokens) plus "
                        + settings.reserveTokens() + " tokens of reserve needs "
                        + table.kv().blocksFor(m.prompt().length + settings.reserveTokens()) + " KV blocks of "
                        + table.kv().blockTokens() + " tokens; this replica's stage holds "
                        + table.kv().totalBlocks() + " (--kv-memory)", false));
            }
            case QUEUE_FULL -> {
                rejected++;
                tellOwner(m, new SequenceRejected(m.sequenceId(), "replica " + assignment.replica()
                        + " has " + scheduler.settings().maxWaiting() + " sequences waiting for KV memory", true));
            }
        }
    }

    private Behavior<Command> interrupt(Start m, String reason) {
        tellOwner(m, new SequenceInterrupted(m.sequenceId(), reason));
        return Behaviors.same();
    }

    private void onForward(Forward m) {
        if (stale(m.epoch())) {
            return;
        }
        hop(m.sentMicros());
        inbox.add(m);
        requestPass();
    }

    private void onNextTokens(NextTokens m) {
        if (stale(m.epoch())) {
            return;
        }
        hop(m.sentMicros());
        for (Fed f : m.tokens()) {
            StageSequence<Start> s = table.get(f.sequenceId());
            if (s != null) {
                s.addPending(new int[] {f.token()}, 0, 1);
            }
        }
        requestPass();
    }

    private void onThrottle(Throttle m) {
        StageSequence<Start> s = table == null ? null : table.get(m.sequenceId());
        if (s == null) {
            return;
        }
        s.paused = m.pause();
        if (!s.paused && s.held >= 0) {
            int token = s.held;
            s.held = -1;
            toNext(new NextTokens(assignment.epoch(), List.of(new Fed(s.id, token)), WallClock.micros()));
        }
    }

    private void free(long id) {
        if (table == null) {
            return;
        }
        StageSequence<Start> s = table.free(id);
        if (s != null) {
            unwatch(s.start.sink(), id);
            if (table.waiting() > 0) {
                // Its blocks may be what a waiting sequence needs; nothing else may ask for a pass.
                requestPass();
            }
        }
    }

    private void onSinkGone(ActorRef<SequenceEvent> sink) {
        Set<Long> ids = sinks.remove(sink);
        if (ids != null && table != null) {
            ctx.getLog().info("stage: the owner of {} sequence(s) is gone ({}); freeing them", ids.size(), sink.path());
            for (long id : ids) {
                StageSequence<Start> s = table.get(id);
                if (s != null) {
                    // A gateway restarted on the same address sees sessions it started before the
                    // old incarnation's removal reported gone with it; told, they re-submit at once
                    // instead of waiting for their token timeout. A really dead owner never reads it.
                    tellOwner(s.start, new SequenceInterrupted(id, "stage " + assignment.stageIndex()
                            + " was told the sequence's owner had gone"));
                }
                free(id); // the sink's entry is gone already: its unwatch finds nothing to undo
            }
        }
    }

    private void watch(ActorRef<SequenceEvent> sink, long id) {
        Set<Long> ids = sinks.get(sink);
        if (ids == null) {
            ids = new HashSet<>();
            sinks.put(sink, ids);
            ctx.watchWith(sink, new SinkGone(sink));
        }
        ids.add(id);
    }

    private void unwatch(ActorRef<SequenceEvent> sink, long id) {
        Set<Long> ids = sinks.get(sink);
        if (ids != null && ids.remove(id) && ids.isEmpty()) {
            sinks.remove(sink);
            ctx.unwatch(sink);
        }
    }

    // ---------------------------------------------------------------- passes

    /** Asks for a pass after the messages already queued (see {@link PassDue}). */
    private void requestPass() {
        if (!passDue) {
            passDue = true;
            ctx.getSelf().tell(PassDue.INSTANCE);
        }
    }

    /** Starts a forward pass over everything that has arrived, unless one is running. */
    private void runNext() {
        if (busy || assignment == null) {
            return;
        }
        Job job = engine.hasEmbedding() ? firstStageJob() : laterStageJob();
        if (job == null) {
            return;
        }
        busy = true;
        StageEngine e = engine;
        CompletableFuture<Job> f = CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            try {
                return job.run(e, this::logits);
            } finally {
                job.computeNanos = System.nanoTime() - t0;
            }
        }, settings.compute());
        ctx.pipeToSelf(f, (done, failure) -> new Computed(job, failure));
    }

    private float[] logits(int count) {
        int n = count * engine.vocabSize();
        if (logitsBuffer.length < n) {
            logitsBuffer = new float[n];
        }
        return logitsBuffer;
    }

    private Job firstStageJob() {
        Pass<Start> pass = scheduler.nextFirstPass();
        tellPreempted(pass.preempted());
        tellTooLarge(pass.tooLarge());
        if (pass.isEmpty()) {
            return null;
        }
        Job job = new Job(pass.entries().size(), engine.hasHead());
        for (Entry<Start> e : pass.entries()) {
            job.add(e.sequence(), e.rows(), e.sample(), e.first() ? e.sequence().start : null, e.cachedPrefix());
            if (e.first()) {
                // No longer waiting: the session's watchdog runs again until the first token.
                tellOwner(e.sequence().start, new SequenceProgress(e.sequence().id, e.cachedPrefix(), false));
            }
        }
        job.tokens = pass.tokens();
        job.rows = pass.rows();
        job.embed = true;
        job.x = new float[pass.rows() * engine.dim()];
        return job;
    }

    /** Later stages: the rows of the Forwards received (each sequence at most once per batch), KV reserved. */
    private Job laterStageJob() {
        if (inbox.isEmpty()) {
            return null;
        }
        int dim = engine.dim();
        int maxRows = scheduler.settings().maxRows();
        Set<Long> inBatch = new HashSet<>();
        List<Forward> taken = new ArrayList<>();
        int rows = 0;
        while (!inbox.isEmpty()) {
            Forward f = inbox.peek();
            boolean clash = false;
            for (Rows r : f.sequences()) {
                clash |= inBatch.contains(r.sequenceId());
            }
            int fRows = f.data().length / dim;
            // A sequence attaching cached blocks waits for the passes before it: the rows that
            // complete those blocks here may be in an earlier message not yet computed.
            if (clash || (!taken.isEmpty() && (rows + fRows > maxRows || attachesPrefix(f)))) {
                break;
            }
            inbox.poll();
            taken.add(f);
            for (Rows r : f.sequences()) {
                inBatch.add(r.sequenceId());
            }
            rows += fRows;
        }
        List<Entry<Start>> arrived = new ArrayList<>();
        Map<StageSequence<Start>, int[]> where = new HashMap<>();
        for (int fi = 0; fi < taken.size(); fi++) {
            Forward f = taken.get(fi);
            if (f.dim() != dim) {
                throw new IllegalStateException("stage " + assignment.stageIndex() + ": activations dim=" + f.dim()
                        + ", expected " + dim);
            }
            int src = 0;
            for (Rows r : f.sequences()) {
                StageSequence<Start> s = arrive(r);
                if (s != null) {
                    boolean first = r.start() != null;
                    int cached = first ? r.cachedPrefix() : 0;
                    arrived.add(new Entry<>(s, r.count(), r.sample(), first, cached > 0 ? r.start().prompt() : null,
                            cached));
                    where.put(s, new int[] {fi, src});
                }
                src += r.count();
            }
        }
        Pass<Start> pass = scheduler.reserveArrived(arrived);
        tellPreempted(pass.preempted());
        tellMissed(pass.missed());
        tellTooLarge(pass.tooLarge());
        if (pass.isEmpty()) {
            return inbox.isEmpty() ? null : laterStageJob();
        }
        Job job = new Job(pass.entries().size(), engine.hasHead());
        float[] x = new float[pass.rows() * dim];
        int[] tokens = new int[pass.rows()];
        int row = 0;
        for (Entry<Start> e : pass.entries()) {
            int[] at = where.get(e.sequence());
            Forward f = taken.get(at[0]);
            System.arraycopy(f.data(), at[1] * dim, x, row * dim, e.rows() * dim);
            System.arraycopy(f.tokens(), at[1], tokens, row, e.rows());
            job.add(e.sequence(), e.rows(), e.sample(), e.first() ? e.sequence().start : null, e.cachedPrefix());
            row += e.rows();
        }
        job.rows = row;
        job.x = x;
        job.tokens = tokens;
        return job;
    }

    /** The sequence whose rows arrived, created on its first rows; null if freed or unknown. */
    private StageSequence<Start> arrive(Rows r) {
        StageSequence<Start> s = table.get(r.sequenceId());
        if (s != null || r.start() == null || table.wasFreed(r.sequenceId())) {
            return s;
        }
        s = table.add(r.sequenceId(), r.start());
        s.resumed = r.start().resumed();
        if (engine.hasHead()) {
            s.initHistory(r.start().prompt(), r.start().maxTokens());
        }
        watch(r.start().sink(), r.sequenceId());
        return s;
    }

    private static boolean attachesPrefix(Forward f) {
        for (Rows r : f.sequences()) {
            if (r.start() != null && r.cachedPrefix() > 0) {
                return true;
            }
        }
        return false;
    }

    /** Sequences whose cached prefix this stage lacks: re-run (by their sessions) without the cache. */
    private void tellMissed(List<StageSequence<Start>> missed) {
        for (StageSequence<Start> s : missed) {
            unwatch(s.start.sink(), s.id);
            tellOwner(s.start, new SequenceInterrupted(s.id, "stage " + assignment.stageIndex() + " of replica "
                    + assignment.replica() + " no longer caches the prompt's first " + s.cachedPrefix
                    + " positions that stage 0 took from its prefix cache", true));
        }
    }

    private void tellTooLarge(List<StageSequence<Start>> tooLarge) {
        for (StageSequence<Start> s : tooLarge) {
            rejected++;
            unwatch(s.start.sink(), s.id);
            tellOwner(s.start, new SequenceRejected(s.id, "the sequence has grown past the "
                    + (long) table.kv().totalBlocks() * table.kv().blockTokens() + " positions (" + table.kv().totalBlocks()
                    + " KV blocks of " + table.kv().blockTokens() + " tokens, --kv-memory) that stage "
                    + assignment.stageIndex() + " of replica " + assignment.replica() + " holds; ask for fewer max"
                    + " tokens or give the workers more KV memory", false));
        }
    }

    private void tellPreempted(List<StageSequence<Start>> preempted) {
        for (StageSequence<Start> s : preempted) {
            unwatch(s.start.sink(), s.id);
            tellOwner(s.start, new SequenceInterrupted(s.id, "preempted: stage " + assignment.stageIndex()
                    + " of replica " + assignment.replica() + " ran out of KV memory", false, true));
        }
    }

    private void onComputed(Computed m) {
        busy = false;
        Job job = m.job();
        if (m.failure() != null) {
            Throwable cause = m.failure().getCause() != null ? m.failure().getCause() : m.failure();
            String errorId = Long.toHexString(System.nanoTime() & 0xffffffL);
            ctx.getLog().error("stage [{}] forward pass failed for {} sequences (error id {})",
                    assignment.stageIndex(), job.size, errorId, cause);
            for (int i = 0; i < job.size; i++) {
                StageSequence<Start> s = job.seqs[i];
                if (table.get(s.id) == s) {
                    free(s.id);
                    tellOwner(s.start, new SequenceFailed(s.id, "stage " + assignment.stageIndex() + " of replica "
                            + assignment.replica() + " failed computing the sequence (error id " + errorId + "): "
                            + cause));
                }
            }
            requestPass();
            return;
        }
        count(job);
        if (job.embed) {
            // Prompt chunks that end without a token: their sessions must not take the wait for a loss.
            for (int i = 0; i < job.size; i++) {
                StageSequence<Start> s = job.seqs[i];
                if (!job.sample[i] && table.get(s.id) == s) {
                    tellOwner(s.start, new SequenceProgress(s.id, s.cache().length(), false));
                }
            }
        }
        published(job);
        if (engine.hasHead()) {
            List<Fed> fed = new ArrayList<>(job.size);
            Map<ActorRef<RelayedEvents>, List<SequenceEvent>> relayed = new HashMap<>();
            for (int i = 0; i < job.size; i++) {
                if (job.sample[i]) {
                    emit(job.seqs[i], job.sampled[i], job.logprobs[i], fed, relayed);
                }
            }
            relayed.forEach((relay, tokens) -> relay.tell(new RelayedEvents(tokens)));
            if (!fed.isEmpty()) {
                toNext(new NextTokens(assignment.epoch(), fed, WallClock.micros()));
            }
        } else {
            List<Rows> out = new ArrayList<>(job.size);
            for (int i = 0; i < job.size; i++) {
                if (table.get(job.seqs[i].id) == job.seqs[i]) {
                    out.add(new Rows(job.seqs[i].id, job.counts[i], job.sample[i], job.starts[i], job.cached[i]));
                }
            }
            if (out.size() == job.size) {
                toNext(new Forward(assignment.epoch(), out, job.tokens, job.x, engine.dim(),
                        WallClock.micros()));
            } else if (!out.isEmpty()) {
                forwardSurvivors(job);
            }
        }
        requestPass();
    }

    /** Tells the KV budget what the pass wrote, so the blocks it completed join the prefix cache. */
    private void published(Job job) {
        for (int i = 0, row = 0; i < job.size; row += job.counts[i], i++) {
            StageSequence<Start> s = job.seqs[i];
            if (table.get(s.id) == s && s.cache() == job.caches[i]) {
                table.kv().wrote(job.caches[i], job.tokens, row, job.counts[i]);
            }
        }
    }

    /** Sends on the rows of the sequences still held after some were freed during the pass. */
    private void forwardSurvivors(Job job) {
        int dim = engine.dim();
        List<Rows> out = new ArrayList<>();
        int rows = 0;
        for (int i = 0; i < job.size; i++) {
            if (table.get(job.seqs[i].id) == job.seqs[i]) {
                rows += job.counts[i];
            }
        }
        float[] x = new float[rows * dim];
        int[] tokens = new int[rows];
        int src = 0;
        int dst = 0;
        for (int i = 0; i < job.size; i++) {
            int n = job.counts[i];
            if (table.get(job.seqs[i].id) == job.seqs[i]) {
                System.arraycopy(job.x, src * dim, x, dst * dim, n * dim);
                System.arraycopy(job.tokens, src, tokens, dst, n);
                out.add(new Rows(job.seqs[i].id, n, job.sample[i], job.starts[i], job.cached[i]));
                dst += n;
            }
            src += n;
        }
        toNext(new Forward(assignment.epoch(), out, tokens, x, dim, WallClock.micros()));
    }

    /**
     * Last stage: tells the sink (or adds the token to its relay's list in {@code relayed}) and adds
     * it to {@code fed} (the ring) unless the sequence ended or is held.
     */
    private void emit(StageSequence<Start> s, int token, SequenceEvent.Logprob logprob, List<Fed> fed,
                      Map<ActorRef<RelayedEvents>, List<SequenceEvent>> relayed) {
        if (table.get(s.id) != s || s.ended) {
            return;
        }
        int step = s.start.firstStep() + s.generated++;
        s.appendHistory(token);
        EndReason end = EndReason.NONE;
        if (contains(s.start.endIds(), token)) {
            end = EndReason.EOS;
        } else if (s.generated >= s.start.maxTokens() || s.cache().length() >= engine.contextLength()) {
            end = EndReason.LENGTH;
        }
        TokenSampled sampled = new TokenSampled(s.id, token, step, end, logprob);
        if (s.start.relay() == null) {
            s.start.sink().tell(sampled);
        } else {
            relayed.computeIfAbsent(s.start.relay(), r -> new ArrayList<>()).add(sampled);
        }
        if (end != EndReason.NONE) {
            s.ended = true;
        } else if (s.paused) {
            s.held = token;
        } else {
            fed.add(new Fed(s.id, token));
        }
    }

    /** Tells the session that owns the sequence, through its gateway's relay when it names one. */
    private static void tellOwner(Start start, SequenceEvent event) {
        if (start.relay() == null) {
            start.sink().tell(event);
        } else {
            start.relay().tell(new RelayedEvents(List.of(event)));
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

    /**
     * Counts a ring message's transit from the previous stage: wall clocks of two hosts, so a
     * skew shows (clamped at 0); on one host (or NTP-synced ones) it is the hop's latency.
     */
    private void hop(long sentMicros) {
        hops++;
        hopNanos += 1000 * Math.max(0, WallClock.micros() - sentMicros);
    }

    private void count(Job job) {
        batches++;
        busyNanos += job.computeNanos;
        rowsTotal += job.rows;
        if (job.size > 1) {
            multiSequenceBatches++;
        }
        maxBatchSequences = Math.max(maxBatchSequences, job.size);
    }

    private Behavior<Command> onGetStats(GetStats m) {
        Assign a = assignment;
        boolean loaded = table != null;
        m.replyTo().tell(new StageStats(a == null ? -1 : a.replica(), a == null ? -1 : a.epoch(),
                a == null ? -1 : a.stageIndex(), engine == null ? 0 : engine.fromLayer(),
                engine == null ? 0 : engine.toLayerExclusive(), loaded ? table.size() : 0,
                loaded ? table.waiting() : 0, loaded ? table.cacheBytes() : 0,
                loaded ? table.kv().totalBlocks() - table.kv().freeBlocks() : 0, loaded ? table.kv().totalBlocks() : 0,
                settings.kvBlockTokens(),
                batches, rowsTotal, multiSequenceBatches, maxBatchSequences,
                scheduler == null ? 0 : scheduler.preemptions(), staleDropped, rejected, busyNanos, hops, hopNanos,
                engine == null ? "" : engine.kvType(), engine == null ? 0 : engine.kvBytesPerToken(),
                engine == null ? -1 : engine.kvPoolUsedBytes(), loaded ? table.kv().prefixStats() : PrefixStats.NONE,
                linkHops));
        return Behaviors.same();
    }

    // ---------------------------------------------------------------- draining and stopping

    private Behavior<Command> startDrain(Drain m) {
        drainReply = m.replyTo();
        ctx.getLog().info("stage draining: {} sequence(s) to move or finish", table == null ? 0 : table.size());
        if (assignment != null) {
            assignment.replyTo().tell(new Leaving(ctx.getSelf()));
        }
        if (table == null || table.size() == 0) {
            return drained();
        }
        ctx.scheduleOnce(DRAIN_TIMEOUT, ctx.getSelf(), DrainTimeout.INSTANCE);
        return draining();
    }

    private Behavior<Command> drained() {
        ctx.getLog().info("stage drained");
        if (drainReply != null) {
            drainReply.tell(Done.getInstance());
        }
        return Behaviors.receive(Command.class)
                .onMessage(Start.class, m -> interrupt(m, "stage has left"))
                .onMessage(Describe.class, m -> describe(m, true))
                .onMessage(IsReady.class, m -> ready(m, false))
                .onSignal(PostStop.class, s -> stop())
                .onAnyMessage(m -> Behaviors.same())
                .build();
    }

    /** Drops every sequence, telling each owner to re-submit elsewhere. */
    private void dropSequences(String reason) {
        inbox.clear();
        if (table == null) {
            return;
        }
        for (StageSequence<Start> s : table.clear()) {
            tellOwner(s.start, new SequenceInterrupted(s.id, reason));
        }
        for (ActorRef<SequenceEvent> sink : sinks.keySet()) {
            ctx.unwatch(sink);
        }
        sinks.clear();
    }

    private void closeEngine() {
        if (engine != null) {
            // Closed on the compute executor, after any forward pass still using it.
            StageEngine e = engine;
            settings.compute().execute(e::close);
            engine = null;
            table = null;
            scheduler = null;
            modelPath = "";
        }
    }

    private Behavior<Command> stop() {
        if (table != null) {
            table.clear();
        }
        if (link != null) {
            link.close();
        }
        if (linkServer != null) {
            linkServer.close();
        }
        closeEngine();
        return Behaviors.same();
    }

    /**
     * One forward pass: built by the actor, run on the compute executor, read back by the actor.
     * The executor reads the caches and (last stage) histories, which the actor does not touch
     * while the job runs.
     */
    private static final class Job {
        final StageSequence<Start>[] seqs;
        final catena.worker.engine.SequenceCache[] caches;
        final int[] counts;
        final boolean[] sample;
        final Start[] starts;
        /** On a sequence's first rows: the prompt positions stage 0 took from its prefix cache. */
        final int[] cached;
        final int[] sampled;
        final SequenceEvent.Logprob[] logprobs;
        final int[] steps;
        final boolean head;
        int size;
        int rows;
        /** Set on the compute thread, read after the pipe back to the actor (a happens-before edge). */
        volatile long computeNanos;
        int[] tokens;
        boolean embed;
        float[] x;

        @SuppressWarnings("unchecked")
        Job(int capacity, boolean head) {
            seqs = new StageSequence[capacity];
            caches = new catena.worker.engine.SequenceCache[capacity];
            counts = new int[capacity];
            sample = new boolean[capacity];
            starts = new Start[capacity];
            cached = new int[capacity];
            sampled = new int[capacity];
            logprobs = new SequenceEvent.Logprob[capacity];
            steps = new int[capacity];
            this.head = head;
        }

        void add(StageSequence<Start> s, int count, boolean sampleLast, Start start, int cachedPrefix) {
            int i = size++;
            cached[i] = start == null ? 0 : cachedPrefix;
            seqs[i] = s;
            caches[i] = s.cache();
            counts[i] = count;
            sample[i] = sampleLast;
            starts[i] = start;
            steps[i] = s.start.firstStep() + s.generated;
        }

        Job run(StageEngine engine, java.util.function.IntFunction<float[]> logitsBuffer) {
            if (embed) {
                engine.embed(tokens, rows, x);
            }
            engine.forward(caches, counts, size, tokens, x);
            if (!head) {
                return this;
            }
            // One pass over the output head for every sequence that samples in this batch.
            int[] rowIdx = new int[size];
            int n = 0;
            int row = 0;
            for (int i = 0; i < size; i++) {
                row += counts[i];
                if (sample[i]) {
                    rowIdx[n++] = row - 1;
                }
            }
            if (n == 0) {
                return this;
            }
            float[] logits = logitsBuffer.apply(n);
            engine.logits(x, rowIdx, n, logits);
            int vocab = engine.vocabSize();
            for (int i = 0, k = 0; i < size; i++) {
                if (sample[i]) {
                    StageSequence<Start> s = seqs[i];
                    int off = k++ * vocab;
                    sampled[i] = engine.sample(logits, off, s.start.sampling(), steps[i], s.history, s.historyLen);
                    int top = s.start.logprobs();
                    if (top >= 0) {
                        int[] ids = new int[top];
                        float[] lps = new float[top];
                        float lp = catena.shard.sample.Logprobs.top(logits, off, vocab, sampled[i], ids, lps);
                        logprobs[i] = new SequenceEvent.Logprob(lp, ids, lps);
                    }
                }
            }
            return this;
        }
    }
}
