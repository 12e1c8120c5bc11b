package catena.gateway.session;

import catena.worker.actor.RelayedEvents;
import catena.worker.actor.SequenceEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The gateway's end of the stages' events: a last stage sends it each pass's tokens for all this
 * gateway's sequences as one {@link RelayedEvents}, and it hands each event to the session that
 * runs the sequence, inside this JVM. With 16 streams on a replica that is one remote message a
 * pass instead of 16, which is where a gateway's and a worker's CPU per token went (Artery
 * serializing, framing and dispatching each message; issue #11's `.ci/bench-cpu`). A stage sends
 * every other event of such a sequence the same way, so an interruption never overtakes the
 * tokens sent before it.
 *
 * <p>A session opens its sequence id before it sends the sequence's Start and closes it when the
 * attempt ends, so an event of an attempt already given up (a late one) finds no session and is
 * dropped (and counted) here, as the session itself would drop it. The directory is a concurrent
 * map rather than open/close messages because sessions and the relay share a JVM and the open
 * must be visible before the Start leaves.
 */
public final class TokenRelay {
    private final Map<Long, ActorRef<SequenceEvent>> sessions = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final ActorRef<RelayedEvents> ref;

    private TokenRelay(ActorSystem<?> system, String name) {
        this.ref = system.systemActorOf(Behaviors.receiveMessage(this::relay), name, Props.empty());
    }

    /** Spawns a gateway's relay as a system actor named {@code name}. */
    public static TokenRelay spawn(ActorSystem<?> system, String name) {
        return new TokenRelay(system, name);
    }

    /** Where stages send the events (it goes in each Start). */
    public ActorRef<RelayedEvents> ref() {
        return ref;
    }

    /** Events of {@code sequenceId} go to {@code session} from now on. */
    public void open(long sequenceId, ActorRef<SequenceEvent> session) {
        sessions.put(sequenceId, session);
    }

    /** The attempt {@code sequenceId} ended: its late events are dropped. */
    public void close(long sequenceId) {
        sessions.remove(sequenceId);
    }

    /** Sequence ids open now. */
    public int openSequences() {
        return sessions.size();
    }

    /** Events dropped so far because their attempt had ended. */
    public long dropped() {
        return dropped.get();
    }

    private Behavior<RelayedEvents> relay(RelayedEvents m) {
        for (SequenceEvent e : m.events()) {
            ActorRef<SequenceEvent> session = sessions.get(e.sequenceId());
            if (session != null) {
                session.tell(e);
            } else {
                dropped.incrementAndGet();
            }
        }
        return Behaviors.same();
    }
}
