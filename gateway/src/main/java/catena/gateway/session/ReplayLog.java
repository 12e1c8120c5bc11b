package catena.gateway.session;

import java.util.Arrays;

/**
 * What a session has delivered of one completion, by step, so that it can be re-submitted after a
 * failover or preemption and continue exactly where it stopped: the prompt plus the tokens so far,
 * continuing at the next step with the same seed. Tokens arrive tagged with their step; a token
 * for a step already delivered (a late one from the replica that was lost, or from an attempt
 * that overlapped) is a duplicate and dropped; a step beyond the next one would be a gap.
 */
public final class ReplayLog {
    /** What to do with an arriving token. */
    public enum Verdict {
        /** The next step: deliver it. */
        DELIVER,
        /** A step already delivered: drop it. */
        DUPLICATE,
        /** A step after the next: something was lost; re-submit from what was delivered. */
        GAP
    }

    private final int[] prompt;
    private final int maxTokens;
    private int[] tokens = new int[16];
    private int delivered;

    public ReplayLog(int[] prompt, int maxTokens) {
        this.prompt = prompt.clone();
        this.maxTokens = maxTokens;
    }

    /** Judges the token sampled at {@code step} and records it if it is the next one. */
    public Verdict accept(int step, int token) {
        if (step < delivered) {
            return Verdict.DUPLICATE;
        }
        if (step > delivered) {
            return Verdict.GAP;
        }
        if (delivered == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[delivered++] = token;
        return Verdict.DELIVER;
    }

    /** Tokens delivered (the next step). */
    public int delivered() {
        return delivered;
    }

    /** The prompt to submit now: the original prompt followed by every delivered token. */
    public int[] resumePrompt() {
        int[] p = Arrays.copyOf(prompt, prompt.length + delivered);
        System.arraycopy(tokens, 0, p, prompt.length, delivered);
        return p;
    }

    /** Tokens still to generate. */
    public int remaining() {
        return maxTokens - delivered;
    }
}
