package catena.gateway.bridge;

import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationRequest;
import catena.gateway.session.GenerationSink;
import catena.worker.actor.StageActor;
import catena.worker.plan.Topology;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** What the transports need from the cluster. Thread-safe. */
public interface GenerationClient {

    /** The fleet as last published by the plan owner. */
    Topology topology();

    /**
     * Starts a generation streaming into {@code out} (which it completes or fails) and returns the
     * controls the transport wires to its ready and cancel signals. Throws
     * {@link ServiceUnavailableException} while no replica is ready, {@link OverloadedException}
     * when this gateway runs as many generations as it admits.
     */
    default GenerationHandle generate(GenerationRequest request, GenerationSink out) {
        return generate(request, out, false);
    }

    /**
     * As {@link #generate(GenerationRequest, GenerationSink)}; a {@code warmup} generation runs like
     * any other but leaves the serving metrics alone (the gateway's own warm-up before it reports
     * SERVING is not traffic).
     */
    GenerationHandle generate(GenerationRequest request, GenerationSink out, boolean warmup);

    /** Counters of every stage of every replica, replica by replica in ring order. */
    CompletionStage<List<StageActor.StageStats>> stats();

    /** Generations running in this gateway now. */
    int activeSessions();
}
