package catena.gateway.bridge;

import catena.gateway.cluster.Pipeline;
import catena.gateway.cluster.PipelineState;
import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationRequest;
import catena.gateway.session.GenerationSession;
import catena.gateway.session.GenerationSink;
import catena.worker.actor.StageActor;
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
    public GenerationHandle generate(GenerationRequest request, GenerationSink out) {
        Pipeline pipeline = state.current();
        if (pipeline == null) {
            throw new ServiceUnavailableException("the pipeline is not loaded yet; retry later");
        }
        if (active.incrementAndGet() > maxSessions) {
            active.decrementAndGet();
            throw new OverloadedException("too many concurrent generations (limit " + maxSessions + "); retry later",
                    Duration.ofSeconds(1));
        }
        long id = ids.incrementAndGet();
        ActorRef<GenerationSession.Command> session;
        try {
            session = system.systemActorOf(GenerationSession.create(id, request, pipeline, model.tokenizer(),
                    model.endIds(), out, active::decrementAndGet), "session-" + id, Props.empty());
        } catch (RuntimeException e) {
            active.decrementAndGet();
            throw e;
        }
        return new GenerationHandle() {
            @Override
            public void ready() {
                session.tell(GenerationSession.StreamReady.INSTANCE);
            }

            @Override
            public void cancel() {
                session.tell(GenerationSession.Cancel.INSTANCE);
            }
        };
    }

    @Override
    public CompletionStage<List<StageActor.StageStats>> stats() {
        Pipeline pipeline = state.current();
        if (pipeline == null) {
            return CompletableFuture.failedFuture(new ServiceUnavailableException("the pipeline is not loaded yet"));
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
