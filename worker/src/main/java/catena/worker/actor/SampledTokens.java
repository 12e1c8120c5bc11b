package catena.worker.actor;

import catena.worker.serial.ClusterMessage;
import java.util.List;

/**
 * What a last stage sends a gateway's relay after a pass: the tokens it sampled for that
 * gateway's sequences, in pass order. One remote message per gateway and pass instead of one per
 * sequence: serializing, sending and dispatching a message each cost more than the token itself
 * (a replica serving 16 streams otherwise sends 16 messages a pass), on the worker's core and on
 * the gateway's.
 */
public record SampledTokens(List<SequenceEvent.TokenSampled> tokens) implements ClusterMessage {
    public SampledTokens {
        tokens = List.copyOf(tokens);
    }
}
