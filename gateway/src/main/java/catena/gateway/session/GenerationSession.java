package catena.gateway.session;

import catena.gateway.session.GenerationOutput.FinishReason;
import catena.gateway.session.GenerationOutput.Usage;
import catena.shard.tokenizer.StreamingDecoder;
import catena.shard.tokenizer.Tokenizer;
import catena.worker.actor.SequenceEvent;
import catena.worker.actor.StageActor;
import catena.worker.plan.Topology;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One generation. It places the sequence on a ready replica, turns the tokens its last stage
 * sends into text (incremental detokenizing, stop strings) and streams them to its
 * {@link GenerationSink} with flow control. States: {@link #placing() placing} (no replica yet:
 * waits a bounded time for one), {@link #running() running} on one replica under one epoch, and
 * stopped.
 *
 * <p>Failover is replay: when its replica loses a stage (the published topology no longer has it
 * ready under the same epoch), or a stage interrupts the sequence (preempted for KV memory,
 * re-planned, draining), the session frees the attempt on every stage and submits a new attempt,
 * under a new sequence id, with the prompt plus every token delivered so far, continuing at the
 * next step with the same seed. Sampling is keyed by (seed, step) and logits do not depend on
 * batching, so the client receives exactly the tokens an undisturbed run gives; the
 * {@link ReplayLog} drops any token of a step already delivered.
 *
 * <p>A slow client: responses wait in a small queue; at {@link #PAUSE_AT} the last stage holds the
 * ring for this sequence, and releases it when the queue has drained.
 */
public final class GenerationSession {
    /** Queued responses at which the ring is paused for this sequence. */
    public static final int PAUSE_AT = 8;
    /** Queued responses at which a paused ring resumes. */
    static final int RESUME_AT = 2;
    /** Last line of defence: an attempt with no token for this long (while not paused) is re-placed. */
    static final Duration TOKEN_TIMEOUT = Duration.ofSeconds(60);
    /**
     * Interruptions after which a sequence fails. Preemptions do not count: they are the stage's
     * memory policy at work, each one lets older sequences finish, and the client must see a pause.
     */
    static final int MAX_ATTEMPTS = 64;

    /** Where sessions place sequences; implemented by the bridge. Thread-safe. */
    public interface Placement {
        /**
         * A ready replica for {@code prompt} (not modified), counted as running one more
         * sequence of this gateway from now on; null when none is ready.
         */
        Topology.Replica place(int[] prompt);

        /** A sequence placed on {@code replica} ended there (finished, failed over or cancelled). */
        void ended(int replica);

        /** The session waited {@code nanos} from its creation until its first placement. */
        void queued(long nanos);

        /** The topology now. */
        Topology current();

        /** A new cluster-unique sequence id. */
        long nextSequenceId();
    }

    /** Messages a session handles. */
    public sealed interface Command {
    }

    /** The client can take more responses. */
    public enum StreamReady implements Command {
        INSTANCE
    }

    /** The client cancelled, went away or its deadline expired. */
    public enum Cancel implements Command {
        INSTANCE
    }

    /** The plan owner published a new topology. */
    public record TopologyChanged(Topology topology) implements Command {
    }

    private record StageEvent(SequenceEvent event) implements Command {
    }

    private enum PlacementTimeout implements Command {
        INSTANCE
    }

    private enum TokenTimeout implements Command {
        INSTANCE
    }

    /**
     * {@code onDone} runs once when the session stops; {@code relay}: the gateway's relay, through
     * which the stages send this session's events (null: straight to the session).
     */
    public static Behavior<Command> create(GenerationRequest request, Placement placement, TokenRelay relay,
                                           Tokenizer tokenizer, int[] endIds, GenerationSink out, Duration failoverWait,
                                           Runnable onDone) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new GenerationSession(ctx, timers, request,
                placement, relay, tokenizer, endIds, out, failoverWait, onDone).placing()));
    }

    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final GenerationRequest request;
    private final Placement placement;
    private final TokenRelay relay;
    private final int[] endIds;
    private final GenerationSink out;
    private final long createdNanos = System.nanoTime();
    private final Duration failoverWait;
    private final Runnable onDone;
    private final StreamingDecoder decoder;
    private final StopMatcher stops;
    private final ReplayLog log;
    private final ActorRef<SequenceEvent> sink;
    private final ArrayDeque<GenerationOutput> queue = new ArrayDeque<>();
    private Topology.Replica replica;
    private long sequenceId;
    private int attempts;
    /** Attempts that ended in a preemption (not counted against MAX_ATTEMPTS). */
    private int preemptions;
    /** Whether stage 0 may take the prompt's leading blocks from its prefix cache (not after a later stage missed them). */
    private boolean prefixCache = true;
    private boolean finished;
    private boolean paused;
    private String lastInterruption = "";

    private GenerationSession(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerationRequest request,
                              Placement placement, TokenRelay relay, Tokenizer tokenizer, int[] endIds,
                              GenerationSink out, Duration failoverWait, Runnable onDone) {
        this.ctx = ctx;
        this.timers = timers;
        this.request = request;
        this.placement = placement;
        this.relay = relay;
        this.endIds = endIds;
        this.out = out;
        this.failoverWait = failoverWait;
        this.onDone = onDone;
        this.decoder = tokenizer.newDecoder(false);
        this.stops = new StopMatcher(request.stop());
        this.log = new ReplayLog(request.prompt(), request.maxTokens());
        this.sink = ctx.messageAdapter(SequenceEvent.class, StageEvent::new);
    }

    // ---------------------------------------------------------------- states

    /** No replica yet: tries now, then on every topology change, until the failover wait runs out. */
    private Behavior<Command> placing() {
        if (tryPlace()) {
            return running();
        }
        timers.startSingleTimer(PlacementTimeout.INSTANCE, failoverWait);
        return Behaviors.receive(Command.class)
                .onMessage(TopologyChanged.class, m -> tryPlace() ? running() : Behaviors.same())
                .onMessage(PlacementTimeout.class, m -> fail(GenerationFailure.Kind.UNAVAILABLE,
                        "no pipeline replica can run the sequence (waited " + failoverWait.toMillis() + " ms): "
                                + describe(placement.current())))
                .onMessage(StreamReady.class, m -> drain())
                .onMessage(Cancel.class, m -> cancel())
                .onMessage(StageEvent.class, m -> Behaviors.same())
                .onMessage(TokenTimeout.class, m -> Behaviors.same())
                .onSignal(PostStop.class, s -> stopped())
                .build();
    }

    /** On a replica: streams, and fails over when it breaks. */
    private Behavior<Command> running() {
        timers.cancel(PlacementTimeout.INSTANCE);
        return Behaviors.receive(Command.class)
                .onMessage(StageEvent.class, m -> onStageEvent(m.event()))
                .onMessage(TopologyChanged.class, this::onTopologyChanged)
                .onMessage(StreamReady.class, m -> drain())
                .onMessage(Cancel.class, m -> cancel())
                .onMessage(TokenTimeout.class, m -> failover("no token for " + TOKEN_TIMEOUT.toSeconds() + " s"))
                .onMessage(PlacementTimeout.class, m -> Behaviors.same())
                .onSignal(PostStop.class, s -> stopped())
                .build();
    }

    private boolean tryPlace() {
        if (attempts - preemptions >= MAX_ATTEMPTS) {
            replica = null;
            return false;
        }
        Topology.Replica r = placement.place(log.resumePrompt());
        if (r == null) {
            return false;
        }
        attempts++;
        if (attempts == 1) {
            placement.queued(System.nanoTime() - createdNanos);
        }
        replica = r;
        sequenceId = placement.nextSequenceId();
        paused = false;
        int[] prompt = log.resumePrompt();
        if (relay != null) {
            relay.open(sequenceId, sink);
        }
        r.first().tell(new StageActor.Start(sequenceId, r.epoch(), prompt, log.delivered(), request.sampling(),
                log.remaining(), endIds, request.logprobs(), sink, prefixCache, attempts > 1,
                relay == null ? null : relay.ref()));
        timers.startSingleTimer(TokenTimeout.INSTANCE, TOKEN_TIMEOUT);
        ctx.getLog().debug("sequence [{}] on replica [{}] epoch [{}] from step {} (attempt {})", sequenceId, r.index(),
                r.epoch(), log.delivered(), attempts);
        return true;
    }

    private Behavior<Command> onTopologyChanged(TopologyChanged m) {
        if (replica != null && m.topology().readyReplica(replica.index(), replica.epoch()) == null) {
            return failover("replica " + replica.index() + " lost a stage");
        }
        return Behaviors.same();
    }

    /** Frees this attempt on every stage of its replica and places a new one. */
    private Behavior<Command> failover(String why) {
        ctx.getLog().info("sequence [{}] re-submitted after {} tokens: {}", sequenceId, log.delivered(), why);
        lastInterruption = why;
        release();
        if (attempts - preemptions >= MAX_ATTEMPTS) {
            return fail(GenerationFailure.Kind.UNAVAILABLE, "the sequence was interrupted " + (attempts - preemptions)
                    + " times; last: " + why);
        }
        return placing();
    }

    private void release() {
        if (relay != null) {
            relay.close(sequenceId);
        }
        if (replica != null) {
            for (Topology.Stage s : replica.stages()) {
                s.ref().tell(new StageActor.Free(sequenceId));
            }
            placement.ended(replica.index());
            replica = null;
        }
        timers.cancel(TokenTimeout.INSTANCE);
    }

    private Behavior<Command> onStageEvent(SequenceEvent e) {
        if (e.sequenceId() != sequenceId || finished) {
            return Behaviors.same(); // an earlier attempt's late message
        }
        return switch (e) {
            case SequenceEvent.TokenSampled t -> onToken(t);
            case SequenceEvent.SequenceInterrupted i -> {
                // a later stage lacked the prefix blocks stage 0 took from its cache: recompute them
                prefixCache &= !i.prefixMiss();
                if (i.preempted()) {
                    preemptions++;
                }
                yield failover(i.reason());
            }
            case SequenceEvent.SequenceProgress p -> onProgress(p);
            case SequenceEvent.SequenceRejected r -> {
                release();
                yield fail(r.retryable()
                        ? new GenerationFailure(GenerationFailure.Kind.RESOURCE_EXHAUSTED, r.reason() + "; retry later",
                                GenerationFailure.ROOM_RETRY)
                        : new GenerationFailure(GenerationFailure.Kind.RESOURCE_EXHAUSTED, r.reason()));
            }
            case SequenceEvent.SequenceFailed f -> {
                release();
                yield fail(GenerationFailure.Kind.INTERNAL, f.reason());
            }
        };
    }

    /**
     * Stage 0 is on the prompt: waiting for KV memory is no loss (a lost stage shows in the
     * topology), and a prefilled chunk is progress, so the token timeout restarts from it.
     */
    private Behavior<Command> onProgress(SequenceEvent.SequenceProgress p) {
        if (p.waiting()) {
            timers.cancel(TokenTimeout.INSTANCE);
        } else if (!paused) {
            timers.startSingleTimer(TokenTimeout.INSTANCE, TOKEN_TIMEOUT);
        }
        return Behaviors.same();
    }

    private Behavior<Command> onToken(SequenceEvent.TokenSampled t) {
        switch (log.accept(t.step(), t.token())) {
            case DUPLICATE -> {
                return Behaviors.same();
            }
            case GAP -> {
                return failover("token of step " + t.step() + " arrived before step " + log.delivered());
            }
            case DELIVER -> {
            }
        }
        if (!paused) {
            timers.startSingleTimer(TokenTimeout.INSTANCE, TOKEN_TIMEOUT);
        }
        String text = stops.accept(decoder.accept(t.token()));
        FinishReason reason = null;
        if (stops.stopped()) {
            reason = FinishReason.STOP;
        } else if (t.end() != SequenceEvent.EndReason.NONE) {
            text += stops.accept(decoder.flush());
            text += stops.flush();
            reason = stops.stopped() ? FinishReason.STOP
                    : t.end() == SequenceEvent.EndReason.EOS ? FinishReason.EOS : FinishReason.LENGTH;
        }
        List<TokenLogprob> logprobs = t.logprob() == null ? List.of()
                : List.of(new TokenLogprob(t.token(), t.logprob().logprob(), t.logprob().topIds(),
                        t.logprob().topLogprobs()));
        Usage usage = null;
        if (reason != null) {
            usage = new Usage(request.prompt().length, log.delivered());
            finished = true;
            release();
        }
        queue.add(new GenerationOutput(text, new int[] {t.token()}, logprobs, reason, usage));
        return drain();
    }

    /** Sends what the client can take; completes when finished and drained; pauses or resumes the ring. */
    private Behavior<Command> drain() {
        while (!queue.isEmpty() && out.isReady()) {
            out.onOutput(queue.poll());
        }
        if (finished) {
            if (queue.isEmpty()) {
                out.onCompleted();
                return Behaviors.stopped();
            }
            return Behaviors.same();
        }
        if (replica == null) {
            return Behaviors.same();
        }
        if (!paused && queue.size() >= PAUSE_AT) {
            paused = true;
            timers.cancel(TokenTimeout.INSTANCE);
            replica.last().tell(new StageActor.Throttle(sequenceId, true));
        } else if (paused && queue.size() <= RESUME_AT) {
            paused = false;
            timers.startSingleTimer(TokenTimeout.INSTANCE, TOKEN_TIMEOUT);
            replica.last().tell(new StageActor.Throttle(sequenceId, false));
        }
        return Behaviors.same();
    }

    private Behavior<Command> cancel() {
        ctx.getLog().debug("sequence [{}] cancelled by the client or its deadline", sequenceId);
        finished = true;
        release();
        return Behaviors.stopped();
    }

    private Behavior<Command> fail(GenerationFailure.Kind kind, String message) {
        return fail(new GenerationFailure(kind, message));
    }

    private Behavior<Command> fail(GenerationFailure failure) {
        ctx.getLog().warn("sequence [{}] failed: {}", sequenceId, failure.message());
        finished = true;
        release();
        out.onFailed(failure);
        return Behaviors.stopped();
    }

    private Behavior<Command> stopped() {
        release();
        onDone.run();
        return Behaviors.same();
    }

    private String describe(Topology t) {
        StringBuilder b = new StringBuilder();
        if (t.replicas().isEmpty()) {
            b.append("no replica is planned");
        }
        for (Topology.Replica r : t.replicas()) {
            if (!b.isEmpty()) {
                b.append("; ");
            }
            b.append("replica ").append(r.index()).append(r.ready() ? " ready" : " not ready (stages loading or lost)");
        }
        if (!t.shortfall().isEmpty()) {
            b.append("; ").append(t.shortfall());
        }
        if (!lastInterruption.isEmpty()) {
            b.append("; last interruption: ").append(lastInterruption);
        }
        return b.toString();
    }
}
