package catena.gateway.session;

import catena.gateway.cluster.Pipeline;
import catena.shard.tokenizer.StreamingDecoder;
import catena.shard.tokenizer.Tokenizer;
import catena.gateway.session.GenerationOutput.FinishReason;
import catena.gateway.session.GenerationOutput.Usage;
import catena.worker.actor.SequenceEvent;
import catena.worker.actor.StageActor;
import java.time.Duration;
import java.util.ArrayDeque;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One Generate call: starts the sequence on stage 0, turns the tokens the last stage sends into
 * text (incremental detokenizing, stop strings), and streams them to its {@link GenerationSink} with flow control. While
 * the client does not read, responses wait in a small queue; when it holds {@link #PAUSE_AT}
 * the session tells the last stage to hold the ring for this sequence (a slow client slows only
 * itself), and releases it when the queue has drained. Ending for any reason (end token, length,
 * stop string, cancellation, deadline, failure) frees the KV cache on every stage.
 */
public final class GenerationSession {
    /** Queued responses at which the ring is paused for this sequence. */
    public static final int PAUSE_AT = 8;
    /** Queued responses at which a paused ring resumes. */
    static final int RESUME_AT = 2;
    /** How long the session waits for the next token (while not paused) before giving up. */
    static final Duration TOKEN_TIMEOUT = Duration.ofSeconds(120);

    /** Messages a session handles. */
    public sealed interface Command {
    }

    /** The client can take more responses (from gRPC's onReady handler). */
    public enum StreamReady implements Command {
        INSTANCE
    }

    /** The client cancelled or the deadline expired (from gRPC's onCancel handler). */
    public enum Cancel implements Command {
        INSTANCE
    }

    private record StageEvent(SequenceEvent event) implements Command {
    }

    private enum TokenTimeout implements Command {
        INSTANCE
    }

    /**
     * A session for sequence {@code sequenceId}; {@code onDone} runs once when it ends (releases
     * its admission slot).
     */
    public static Behavior<Command> create(long sequenceId, GenerationRequest request, Pipeline pipeline,
                                           Tokenizer tokenizer, int[] endIds, GenerationSink out, Runnable onDone) {
        return Behaviors.setup(ctx -> new GenerationSession(ctx, sequenceId, request, pipeline, tokenizer, endIds, out,
                onDone).start());
    }

    private final ActorContext<Command> ctx;
    private final long sequenceId;
    private final GenerationRequest request;
    private final Pipeline pipeline;
    private final int[] endIds;
    private final GenerationSink out;
    private final Runnable onDone;
    private final StreamingDecoder decoder;
    private final StopMatcher stops;
    private final ArrayDeque<GenerationOutput> queue = new ArrayDeque<>();
    private int completionTokens;
    private boolean finished;
    private boolean paused;

    private GenerationSession(ActorContext<Command> ctx, long sequenceId, GenerationRequest request, Pipeline pipeline,
                              Tokenizer tokenizer, int[] endIds, GenerationSink out, Runnable onDone) {
        this.ctx = ctx;
        this.sequenceId = sequenceId;
        this.request = request;
        this.pipeline = pipeline;
        this.endIds = endIds;
        this.out = out;
        this.onDone = onDone;
        this.decoder = tokenizer.newDecoder(false);
        this.stops = new StopMatcher(request.stop());
    }

    private Behavior<Command> start() {
        ActorRef<SequenceEvent> sink = ctx.messageAdapter(SequenceEvent.class, StageEvent::new);
        pipeline.first().tell(new StageActor.Start(sequenceId, request.prompt(), request.sampling(),
                request.maxTokens(), endIds, request.logprobs(), sink));
        ctx.setReceiveTimeout(TOKEN_TIMEOUT, TokenTimeout.INSTANCE);
        ctx.getLog().debug("session [{}] started: {}", sequenceId, request);
        return Behaviors.receive(Command.class)
                .onMessage(Command.class, this::onCommand)
                .onSignal(PostStop.class, s -> {
                    onDone.run();
                    return Behaviors.same();
                })
                .build();
    }

    private Behavior<Command> onCommand(Command c) {
        return switch (c) {
            case StageEvent m -> onStageEvent(m.event());
            case StreamReady m -> drain();
            case Cancel m -> onCancel();
            case TokenTimeout m -> fail(new GenerationFailure(GenerationFailure.Kind.UNAVAILABLE,
                    "no token from the pipeline for " + TOKEN_TIMEOUT.toSeconds() + " s (session " + sequenceId + ")"));
        };
    }

    private Behavior<Command> onStageEvent(SequenceEvent e) {
        return switch (e) {
            case SequenceEvent.TokenSampled t -> onToken(t);
            case SequenceEvent.SequenceFailed f -> fail(new GenerationFailure(GenerationFailure.Kind.UNAVAILABLE,
                    "the pipeline failed: " + f.reason()));
        };
    }

    private Behavior<Command> onToken(SequenceEvent.TokenSampled t) {
        if (finished) {
            return Behaviors.same();
        }
        completionTokens++;
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
        java.util.List<TokenLogprob> logprobs = t.logprob() == null ? java.util.List.of()
                : java.util.List.of(new TokenLogprob(t.token(), t.logprob().logprob(), t.logprob().topIds(),
                        t.logprob().topLogprobs()));
        Usage usage = null;
        if (reason != null) {
            usage = new Usage(request.prompt().length, completionTokens);
            finished = true;
            pipeline.free(sequenceId);
            ctx.cancelReceiveTimeout();
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
        if (!paused && queue.size() >= PAUSE_AT) {
            paused = true;
            ctx.cancelReceiveTimeout();
            pipeline.last().tell(new StageActor.Throttle(sequenceId, true));
        } else if (paused && queue.size() <= RESUME_AT) {
            paused = false;
            ctx.setReceiveTimeout(TOKEN_TIMEOUT, TokenTimeout.INSTANCE);
            pipeline.last().tell(new StageActor.Throttle(sequenceId, false));
        }
        return Behaviors.same();
    }

    private Behavior<Command> onCancel() {
        ctx.getLog().debug("session [{}] cancelled by the client or its deadline", sequenceId);
        if (!finished) {
            finished = true;
            pipeline.free(sequenceId);
        }
        return Behaviors.stopped();
    }

    private Behavior<Command> fail(GenerationFailure failure) {
        ctx.getLog().warn("session [{}] failed: {}", sequenceId, failure.message());
        if (!finished) {
            finished = true;
            pipeline.free(sequenceId);
        }
        out.onFailed(failure);
        return Behaviors.stopped();
    }
}
