package catena.worker.actor;

import catena.worker.serial.ClusterMessage;
import java.util.Arrays;

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
                    && Arrays.equals(topIds, l.topIds) && Arrays.equals(topLogprobs, l.topLogprobs);
        }

        @Override
        public int hashCode() {
            return Float.hashCode(logprob) * 31 + Arrays.hashCode(topIds);
        }
    }

    /**
     * Stage 0: the sequence's prompt is on its way though no token has come yet: it was queued
     * ({@code waiting}: for KV memory, or behind older prompts), or a chunk of it was prefilled
     * ({@code positions} computed so far).
     */
    record SequenceProgress(long sequenceId, int positions, boolean waiting) implements SequenceEvent {
    }

    /** A stage failed computing the sequence (a broken invariant or engine error); not retried. */
    record SequenceFailed(long sequenceId, String reason) implements SequenceEvent {
    }

    /**
     * The sequence was stopped through no fault of its own (preempted for KV memory, the stage is
     * draining or no longer in that replica's plan); its blocks are freed here. The session
     * re-submits it with the tokens streamed so far; with {@code prefixMiss} (a later stage lacked
     * prefix blocks stage 0 took from its cache) without the prefix cache; {@code preempted}: the
     * stage ran out of KV memory (the session does not count it as a failed attempt).
     */
    record SequenceInterrupted(long sequenceId, String reason, boolean prefixMiss, boolean preempted)
            implements SequenceEvent {
        public SequenceInterrupted(long sequenceId, String reason) {
            this(sequenceId, reason, false, false);
        }

        public SequenceInterrupted(long sequenceId, String reason, boolean prefixMiss) {
            this(sequenceId, reason, prefixMiss, false);
        }
    }

    /**
     * The replica cannot take the sequence: its prompt never fits the KV memory, or the admission
     * queue is full ({@code retryable}). Nothing is held for it.
     */
    record SequenceRejected(long sequenceId, String reason, boolean retryable) implements SequenceEvent {
    }
}
