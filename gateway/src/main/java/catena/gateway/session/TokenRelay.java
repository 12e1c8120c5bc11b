package catena.gateway.session;

import catena.worker.actor.SampledTokens;
import catena.worker.actor.SequenceEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The gateway's end of the token stream: a last stage sends it each pass's tokens for all this
 * gateway's sequences as one {@link SampledTokens}, and it hands each token to the session that
 * runs the sequence, inside this JVM. With 16 streams on a replica that is one remote message a
 * pass instead of 16, which is where a gateway's and a worker's CPU per token went (Artery
 * serializing, framing and dispatching each message; issue #11's `.ci/bench-cpu`).
 *
 * <p>A session opens its sequence id before it sends the sequence's Start and closes it when the
 * attempt ends, so a token of an attempt already given up (a late one) finds no session and is
 * dropped here, as the session itself would drop it. Every other event (progress, interruption,
 * failure) still goes straight to the session's own ref.
 */
public final class TokenRelay {
    private final Map<Long, ActorRef<SequenceEvent>> sessions = new ConcurrentHashMap<>();
    private final ActorRef<SampledTokens> ref;

    private TokenRelay(ActorSystem<?> system, String name) {
        this.ref = system.systemActorOf(Behaviors.receiveMessage(this::relay), name, Props.empty());
    }

    /** Spawns the relay of a gateway (one per actor system). */
    public static TokenRelay spawn(ActorSystem<?> system, String name) {
        return new TokenRelay(system, name);
    }

    /** Where stages send the tokens (it goes in each Start). */
    public ActorRef<SampledTokens> ref() {
        return ref;
    }

    /** Tokens of {@code sequenceId} go to {@code session} from now on. */
    public void open(long sequenceId, ActorRef<SequenceEvent> session) {
        sessions.put(sequenceId, session);
    }

    /** The attempt {@code sequenceId} ended: its late tokens are dropped. */
    public void close(long sequenceId) {
        sessions.remove(sequenceId);
    }

    /** Sequence ids open now. */
    public int openSequences() {
        return sessions.size();
    }

    private Behavior<SampledTokens> relay(SampledTokens pass) {
        for (SequenceEvent.TokenSampled t : pass.tokens()) {
            ActorRef<SequenceEvent> session = sessions.get(t.sequenceId());
            if (session != null) {
                session.tell(t);
            }
        }
        return Behaviors.same();
    }
}
