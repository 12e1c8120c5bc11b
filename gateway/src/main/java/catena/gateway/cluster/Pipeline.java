package catena.gateway.cluster;

import catena.worker.actor.StageActor;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** A loaded ring of stages, in order: stage 0 embeds, the last one samples. Immutable. */
public record Pipeline(List<Stage> stages) {

    /** One loaded stage: layers [fromLayer, toLayerExclusive) held by {@code ref}. */
    public record Stage(int index, int fromLayer, int toLayerExclusive, ActorRef<StageActor.Command> ref) {
    }

    public Pipeline {
        stages = List.copyOf(stages);
    }

    public ActorRef<StageActor.Command> first() {
        return stages.getFirst().ref();
    }

    public ActorRef<StageActor.Command> last() {
        return stages.getLast().ref();
    }

    /** Tells every stage to drop the sequence's KV cache. */
    public void free(long sequenceId) {
        for (Stage s : stages) {
            s.ref().tell(new StageActor.Free(sequenceId));
        }
    }
}
