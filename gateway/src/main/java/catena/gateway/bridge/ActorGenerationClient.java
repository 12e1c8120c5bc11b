package catena.gateway.bridge;

import catena.gateway.cluster.Pipeline;
import catena.gateway.cluster.PipelineState;
import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationRequest;
import catena.gateway.session.GenerationSession;
import catena.v1.GenerateResponse;
import catena.worker.actor.StageActor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Runs each generation as a {@link GenerationSession} actor. Admission is bounded: at most
 * {@code maxSessions} sequences run at once (their KV caches must fit the stages); more get
 * RESOURCE_EXHAUSTED.
 */
public final class ActorGenerationClient implements GenerationClient {
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Bytes gRPC may hold unsent per stream before isReady turns false (its default is 32 KiB,
     * about a thousand tokens of text: a stalled client would let its whole completion run). With
     * 1 KiB a client that stops reading pauses its sequence's ring within ~50 tokens.
     */
    static final int ON_READY_THRESHOLD = 1024;

    private final ActorSystem<?> system;
    private final PipelineState state;
    private final ServedModel model;
    private final int maxSessions;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();

    public ActorGenerationClient(ActorSystem<?> system, PipelineState state, ServedModel model, int maxSessions) {
        this.system = system;
        this.state = state;
        this.model = model;
        this.maxSessions = maxSessions;
    }

    @Override
    public Pipeline pipeline() {
        return state.current();
    }

    @Override
    public void generate(GenerationRequest request, ServerCallStreamObserver<GenerateResponse> out) {
        Pipeline pipeline = state.current();
        if (pipeline == null) {
            throw Status.UNAVAILABLE.withDescription("the pipeline is not loaded yet; retry later").asRuntimeException();
        }
        if (active.incrementAndGet() > maxSessions) {
            active.decrementAndGet();
            throw Status.RESOURCE_EXHAUSTED.withDescription("too many concurrent generations (limit " + maxSessions
                    + "); retry later").asRuntimeException();
        }
        long id = ids.incrementAndGet();
        // Handlers first (gRPC wants them set during the call), then the session that may use `out`.
        var session = new java.util.concurrent.atomic.AtomicReference<ActorRef<GenerationSession.Command>>();
        var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        out.setOnReadyThreshold(ON_READY_THRESHOLD);
        out.setOnReadyHandler(() -> {
            ActorRef<GenerationSession.Command> s = session.get();
            if (s != null) {
                s.tell(GenerationSession.StreamReady.INSTANCE);
            }
        });
        out.setOnCancelHandler(() -> {
            cancelled.set(true);
            ActorRef<GenerationSession.Command> s = session.get();
            if (s != null) {
                s.tell(GenerationSession.Cancel.INSTANCE);
            }
        });
        try {
            session.set(system.systemActorOf(GenerationSession.create(id, request, pipeline, model.tokenizer(),
                    model.endIds(), out, active::decrementAndGet), "session-" + id, Props.empty()));
        } catch (RuntimeException e) {
            active.decrementAndGet();
            throw e;
        }
        if (cancelled.get()) {
            session.get().tell(GenerationSession.Cancel.INSTANCE);
        }
    }

    @Override
    public CompletionStage<List<StageActor.StageStats>> stats() {
        Pipeline pipeline = state.current();
        if (pipeline == null) {
            return CompletableFuture.failedFuture(Status.UNAVAILABLE
                    .withDescription("the pipeline is not loaded yet").asRuntimeException());
        }
        List<CompletableFuture<StageActor.StageStats>> asks = new ArrayList<>();
        for (Pipeline.Stage s : pipeline.stages()) {
            asks.add(AskPattern.<StageActor.Command, StageActor.StageStats>ask(s.ref(), StageActor.GetStats::new,
                    STATS_TIMEOUT, system.scheduler()).toCompletableFuture());
        }
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                .thenApply(v -> asks.stream().map(CompletableFuture::join).toList());
    }

    @Override
    public int activeSessions() {
        return active.get();
    }
}
