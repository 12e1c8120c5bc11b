package catena.shard.sample;

/**
 * llama.cpp's repeat penalty (penalty_repeat over penalty_last_n): each distinct token among the
 * last {@code repetitionWindow} of the history has its logit divided by the penalty if positive,
 * multiplied by it otherwise, once however often it occurs. Works on a copy, so the caller's
 * logits stay as the model wrote them.
 */
final class RepetitionPenalty {
    private RepetitionPenalty() {
    }

    static boolean active(SamplingParams p, int historyLen) {
        return p.repetitionPenalty() != 1f && p.repetitionWindow() > 0 && historyLen > 0;
    }

    /** The penalized copy of {@code logits[off .. off+vocab)}, in {@code s}, starting at index 0. */
    static float[] apply(float[] logits, int off, int vocab, SamplingParams p, int[] history, int historyLen,
                         SamplerScratch s) {
        int from = Math.max(0, historyLen - p.repetitionWindow());
        // Check every id before marking any, so a refusal leaves the bitset clean.
        for (int i = from; i < historyLen; i++) {
            int t = history[i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("history token out of vocabulary: history[" + i + "]=" + t
                        + ", expected 0 <= id < vocabSize=" + vocab);
            }
        }
        float[] out = s.penalized(vocab);
        System.arraycopy(logits, off, out, 0, vocab);
        long[] seen = s.seen(vocab);
        float pen = p.repetitionPenalty();
        for (int i = from; i < historyLen; i++) {
            int t = history[i];
            long bit = 1L << t;
            if ((seen[t >>> 6] & bit) == 0) {
                seen[t >>> 6] |= bit;
                out[t] = out[t] > 0 ? out[t] / pen : out[t] * pen;
            }
        }
        for (int i = from; i < historyLen; i++) {
            seen[history[i] >>> 6] = 0;
        }
        return out;
    }
}
