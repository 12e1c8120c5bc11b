package catena.gateway.bridge;

import catena.gateway.cluster.Pipeline;
import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationRequest;
import catena.gateway.session.GenerationSink;
import catena.worker.actor.StageActor;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** What the gRPC service needs from the pipeline. Thread-safe. */
public interface GenerationClient {

    /** The loaded pipeline, or null while some stage is not loaded. */
    Pipeline pipeline();

    /**
     * Starts a generation streaming into {@code out} (which it completes or fails) and returns the
     * controls the transport wires to its ready and cancel signals. Throws
     * {@link ServiceUnavailableException} while no replica is loaded, {@link OverloadedException}
     * when every replica and the queue are full.
     */
    GenerationHandle generate(GenerationRequest request, GenerationSink out);

    /** Counters of every stage, in ring order. */
    CompletionStage<List<StageActor.StageStats>> stats();

    /** Generations running now. */
    int activeSessions();
}
