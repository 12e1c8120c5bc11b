package catena.worker.stage;

import catena.worker.engine.SequenceCache;
import java.util.Arrays;

/**
 * One sequence on a stage: its KV cache (null while waiting for admission), the tokens stage 0
 * has yet to run, and (last stage) the history the sampler's penalties read. {@code start} is
 * what the actor needs to answer for the sequence (its sink, sampling settings). Mutated by the
 * stage actor only, and by nothing while a forward pass that includes it runs.
 */
public final class StageSequence<T> {
    public final long id;
    public final T start;
    /** Admission order on this stage: the highest is the youngest, preempted first. */
    long order;
    SequenceCache cache;
    int[] pending = new int[0];
    int pendingLen;
    /**
     * Re-submitted after an interruption (its client is mid-stream): preempted only when no fresh
     * sequence is left, so that a resumed sequence is not the next victim again and again.
     */
    public boolean resumed;
    /** Whether this stage may take the sequence's leading blocks from its prefix cache. */
    public boolean usePrefix = true;
    /** Whether stage 0 has looked its prompt up in the prefix cache (once, when planning a pass). */
    public boolean prefixChecked;
    /** Positions of its prompt attached from the prefix cache instead of computed (0: none). */
    public int cachedPrefix;
    /** Whether stage 0 has sent the sequence's first rows (which carry its start). */
    public boolean startSent;
    /** Last stage: prompt + generated ids. */
    public int[] history;
    public int historyLen;
    /** Last stage: tokens sampled so far on this stage (the step of the next one is firstStep + generated). */
    public int generated;
    /** Last stage: the client reads slowly; the next token is held instead of fed back. */
    public boolean paused;
    public boolean ended;
    public int held = -1;

    public StageSequence(long id, T start) {
        this.id = id;
        this.start = start;
    }

    public SequenceCache cache() {
        return cache;
    }

    public boolean admitted() {
        return cache != null;
    }

    /** Tokens stage 0 has yet to run. */
    public int pending() {
        return pendingLen;
    }

    /** Queues tokens for stage 0 to run (a prompt, or the fed-back sampled token). */
    public void addPending(int[] tokens, int off, int len) {
        if (pendingLen + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pendingLen + len, Math.max(16, pending.length * 2)));
        }
        System.arraycopy(tokens, off, pending, pendingLen, len);
        pendingLen += len;
    }

    /** The pending tokens (the first {@link #pending()} of them); not to be modified. */
    int[] pendingTokens() {
        return pending;
    }

    /** Removes the first {@code n} pending tokens into {@code out[at ..]}. */
    void takePending(int n, int[] out, int at) {
        System.arraycopy(pending, 0, out, at, n);
        System.arraycopy(pending, n, pending, 0, pendingLen - n);
        pendingLen -= n;
    }

    /** Last stage: starts the history with the prompt, room for {@code more} tokens. */
    public void initHistory(int[] prompt, int more) {
        history = Arrays.copyOf(prompt, prompt.length + Math.max(16, more));
        historyLen = prompt.length;
    }

    public void appendHistory(int token) {
        if (historyLen == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        history[historyLen++] = token;
    }
}
