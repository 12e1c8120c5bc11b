package catena.worker.plan;

import catena.worker.actor.StageActor;
import catena.worker.serial.ClusterMessage;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The fleet as the plan owner publishes it to every gateway: the owner incarnation and a version
 * that grows with every change, the replicas (each with its epoch, whether all its stages have confirmed their
 * assignment, and its stages in ring order), the number of hot spares, and, when fewer replicas
 * serve than wanted, why (a sentence a person can act on; empty otherwise). Immutable.
 */
public record Topology(long owner, long version, List<Replica> replicas, int spares, String shortfall)
        implements ClusterMessage {

    /** An empty topology: nothing planned yet. */
    public static final Topology EMPTY = new Topology(0, 0, List.of(), 0, "no plan yet: waiting for workers");

    /**
     * Whether this topology supersedes {@code other}: a later plan owner incarnation ({@code owner}
     * is its start time; an owner starts only after the previous one's node left), or the same
     * owner's later version.
     */
    public boolean newerThan(Topology other) {
        return owner != other.owner ? owner > other.owner : version > other.version;
    }

    public Topology {
        replicas = List.copyOf(replicas);
    }

    /** A replica: its index, its epoch, whether every stage has confirmed, its stages in ring order. */
    public record Replica(int index, long epoch, boolean ready, List<Stage> stages) {
        public Replica {
            stages = List.copyOf(stages);
        }

        public ActorRef<StageActor.Command> first() {
            return stages.getFirst().ref();
        }

        public ActorRef<StageActor.Command> last() {
            return stages.getLast().ref();
        }
    }

    /** One stage: layers [fromLayer, toLayerExclusive) held by {@code ref}. */
    public record Stage(int index, int fromLayer, int toLayerExclusive, ActorRef<StageActor.Command> ref) {
    }

    /** Replicas whose stages have all confirmed, by index. */
    public List<Replica> ready() {
        return replicas.stream().filter(Replica::ready).toList();
    }

    /** The replica with this index and epoch if it is still ready, else null. */
    public Replica readyReplica(int index, long epoch) {
        for (Replica r : replicas) {
            if (r.index() == index && r.epoch() == epoch && r.ready()) {
                return r;
            }
        }
        return null;
    }
}
