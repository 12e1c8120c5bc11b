package catena.gateway.bridge;

import catena.gateway.cluster.Pipeline;
import catena.gateway.session.GenerationRequest;
import catena.v1.GenerateResponse;
import catena.worker.actor.StageActor;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** What the gRPC service needs from the pipeline. Thread-safe. */
public interface GenerationClient {

    /** The loaded pipeline, or null while some stage is not loaded. */
    Pipeline pipeline();

    /**
     * Starts a generation streaming into {@code out} (which it completes or fails). Throws a
     * StatusRuntimeException: UNAVAILABLE while the pipeline is not loaded, RESOURCE_EXHAUSTED when
     * too many generations run.
     */
    void generate(GenerationRequest request, ServerCallStreamObserver<GenerateResponse> out);

    /** Counters of every stage, in ring order. */
    CompletionStage<List<StageActor.StageStats>> stats();

    /** Generations running now. */
    int activeSessions();
}
