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

    /**
     * The last stage sampled {@code token}, the {@code step}-th (0-based) of the completion;
     * {@code logprob} is null unless the sequence asked for log-probabilities.
     */
    record TokenSampled(long sequenceId, int token, int step, EndReason end, Logprob logprob) implements SequenceEvent {
        public TokenSampled(long sequenceId, int token, int step, EndReason end) {
            this(sequenceId, token, step, end, null);
        }
    }

    /**
     * The sampled token's log-probability and the most likely ids at its step with theirs (raw
     * logits' log-softmax; see catena.shard.sample.Logprobs).
     */
    record Logprob(float logprob, int[] topIds, float[] topLogprobs) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Logprob l && Float.compare(logprob, l.logprob) == 0
                    && java.util.Arrays.equals(topIds, l.topIds) && java.util.Arrays.equals(topLogprobs, l.topLogprobs);
        }

        @Override
        public int hashCode() {
            return Float.hashCode(logprob) * 31 + java.util.Arrays.hashCode(topIds);
        }
    }

    /** A stage cannot continue the sequence (load lost, compute error); the reason is for logs and clients. */
    record SequenceFailed(long sequenceId, String reason) implements SequenceEvent {
    }
}
