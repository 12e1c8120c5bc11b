package catena.worker.actor;

import catena.worker.serial.ClusterMessage;

/** What stages tell the gateway session that owns a sequence. */
public sealed interface SequenceEvent extends ClusterMessage {

    /** Why the ring stopped after a token. */
    enum EndReason {
        /** The sequence continues. */
        NONE,
        /** The token is an end-of-generation token. */
        EOS,
        /** max tokens reached or the context is full. */
        LENGTH
    }

    long sequenceId();

    /** The last stage sampled {@code token}, the {@code step}-th (0-based) of the completion. */
    record TokenSampled(long sequenceId, int token, int step, EndReason end) implements SequenceEvent {
    }

    /** A stage cannot continue the sequence (load lost, compute error); the reason is for logs and clients. */
    record SequenceFailed(long sequenceId, String reason) implements SequenceEvent {
    }
}
