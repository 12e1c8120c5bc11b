package catena.worker.actor;

import catena.worker.serial.ClusterMessage;
import java.util.List;

/**
 * What a stage sends a gateway's relay: events of that gateway's sequences, in the order the stage
 * produced them. A last stage sends the tokens it sampled in one pass as one message, instead of
 * one per sequence: serializing, sending and dispatching a message each cost more than the token
 * itself (a replica serving 16 streams otherwise sends 16 messages a pass), on the worker's core and
 * on the gateway's. Every other event of such a sequence takes the same path, so none overtakes a
 * token sent before it (an interruption must not arrive before the last tokens of its attempt).
 */
public record RelayedEvents(List<SequenceEvent> events) implements ClusterMessage {
    public RelayedEvents {
        events = List.copyOf(events);
    }
}
