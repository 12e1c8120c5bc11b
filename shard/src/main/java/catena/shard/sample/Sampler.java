package catena.shard.sample;

import catena.shard.kernel.VectorOps;

/**
 * Picks the next token: a pure function of (logits, params, history, step). The random draw of step
 * k comes from {@link CounterRng} keyed by (seed, k), so any replica can resume a sequence at step
 * k, or replay steps in any order, and get the same tokens.
 *
 * <p>The chain is llama.cpp's default order: repetition penalty, top-k, top-p, min-p, temperature,
 * draw. Top-p and min-p see probabilities at temperature 1 over the candidates that reached them
 * (after top-k), as there. Temperature {@code <= 0} is greedy: the highest penalized logit, lowest
 * id on ties. The draw walks the surviving candidates in a fixed order (best first after top-k,
 * otherwise by id), so the token for a given (seed, step) depends on nothing else. Exponentials and
 * logarithms use {@link StrictMath}: {@code Math.exp} may differ by an ulp between JIT intrinsics
 * and CPUs, which could flip a token at a boundary between replicas; StrictMath is bit-identical
 * everywhere, at 1.5-4x the cost per exp (it matters only on the paths that exp the whole vocabulary).
 *
 * <p>Cost at vocabulary 262144 (no full sort anywhere): greedy one pass (~0.1 ms); top-k a bounded
 * heap (~0.4 ms with penalty, top-p and min-p); min-p alone a threshold pass; top-p without top-k
 * and plain temperature exp the whole vocabulary (a few ms), top-p then sorting only the bucket
 * where the mass crosses p. Numbers: {@code SamplerBench} (shard/src/jmh).
 *
 * <p>Two ways to call it: the static methods, passing a {@link SamplerScratch} to reuse (the overload
 * without one allocates buffers on each call, fine for one-off use), or an instance, which owns a
 * scratch and is therefore not thread-safe; hold one per token loop.
 */
public final class Sampler {
    private final SamplerScratch scratch = new SamplerScratch();

    /** A sampler with its own scratch; use from one thread at a time. */
    public Sampler() {
    }

    /** {@link #sample(float[], int, int, SamplingParams, long, int[], int, SamplerScratch)} with this sampler's scratch. */
    public int next(float[] logits, int off, int vocab, SamplingParams p, long step, int[] history, int historyLen) {
        return sample(logits, off, vocab, p, step, history, historyLen, scratch);
    }

    /** As the scratch overload, with fresh buffers: thread-safe, but allocates up to ~4 MB per call at vocabulary 262144. */
    public static int sample(float[] logits, int off, int vocab, SamplingParams p, long step, int[] history,
                             int historyLen) {
        return sample(logits, off, vocab, p, step, history, historyLen, new SamplerScratch());
    }

    /**
     * The next token id in [0, vocab) from {@code logits[off .. off+vocab)}, which is read, never
     * written. {@code history[0 .. historyLen)} holds prompt + generated ids for the repetition
     * penalty; {@code step} is the index of the token being generated (0 for the first). {@code p} is
     * validated here too. Throws IllegalArgumentException for invalid params, ranges, history ids
     * outside the vocabulary, or logits with NaN / +Infinity (detected on the non-greedy path).
     */
    public static int sample(float[] logits, int off, int vocab, SamplingParams p, long step, int[] history,
                             int historyLen, SamplerScratch s) {
        p.validate();
        checkRanges(logits, off, vocab, history, historyLen);
        float[] l = logits;
        int base = off;
        if (RepetitionPenalty.active(p, historyLen)) {
            l = RepetitionPenalty.apply(logits, off, vocab, p, history, historyLen, s);
            base = 0;
        }
        if (p.greedy()) {
            return argmax(l, base, vocab);
        }
        filter(l, base, vocab, p, s);
        return draw(l, base, vocab, p.temperature(), CounterRng.uniform(p.seed(), step), s);
    }

    /**
     * Top-k, top-p and min-p over {@code l[base .. base+vocab)}: leaves the survivors in {@code s}
     * ({@code s.all}, or {@code s.keys(0)[0 .. s.count)}) and the best logit in {@code s.max}.
     */
    static void filter(float[] l, int base, int vocab, SamplingParams p, SamplerScratch s) {
        long[] keys;
        int n;
        boolean all;
        float max;
        if (p.topK() > 0 && p.topK() < vocab) {
            keys = s.keys(p.topK());
            TopK.select(l, base, vocab, p.topK(), keys);
            n = p.topK();
            all = false;
            max = l[base + CandidateKey.id(keys[0])];
            if (p.topP() < 1f) {
                n = Nucleus.prefix(l, base, keys, n, max, p.topP());
            }
        } else {
            max = l[base + argmax(l, base, vocab)];
            if (p.topP() < 1f) {
                n = Nucleus.select(l, base, vocab, max, p.topP(), s);
                keys = s.keys(n);
                all = false;
            } else {
                keys = null;
                n = vocab;
                all = true;
            }
        }
        if (p.minP() > 0f) {
            // llama.cpp: keep logit >= max + log(min_p), in float; the best token always stays.
            float minLogit = max + (float) StrictMath.log(p.minP());
            if (all) {
                keys = s.keys(vocab);
                n = 0;
                for (int i = 0; i < vocab; i++) {
                    if (l[base + i] >= minLogit) {
                        keys[n++] = i;
                    }
                }
                all = false;
            } else {
                int kept = 0;
                for (int j = 0; j < n; j++) {
                    if (l[base + CandidateKey.id(keys[j])] >= minLogit) {
                        keys[kept++] = keys[j];
                    }
                }
                n = kept;
            }
        }
        s.count = n;
        s.all = all;
        s.max = max;
    }

    /**
     * Token drawn with weights exp((logit - max) / temperature) over the candidates {@link #filter}
     * left in {@code s}; {@code u01} in [0, 1) picks the first candidate whose cumulative
     * weight exceeds u01 * total, so a zero-weight token is never returned.
     */
    private static int draw(float[] l, int base, int vocab, float temperature, double u01, SamplerScratch s) {
        int n = s.count;
        boolean all = s.all;
        float max = s.max;
        long[] keys = s.keys(0);
        float[] w = s.weights(n);
        double total = 0;
        for (int j = 0; j < n; j++) {
            int id = all ? j : CandidateKey.id(keys[j]);
            w[j] = (float) StrictMath.exp((l[base + id] - max) / (double) temperature);
            total += w[j];
        }
        if (!(total > 0) || Double.isInfinite(total)) {
            throw NonFiniteLogits.at(l, base, vocab);
        }
        double u = u01 * total;
        double acc = 0;
        for (int j = 0; j < n; j++) {
            acc += w[j];
            if (u < acc) {
                return all ? j : CandidateKey.id(keys[j]);
            }
        }
        // Only if u01 * total rounded up to total: the last candidate with weight.
        int j = n - 1;
        while (w[j] == 0f) {
            j--;
        }
        return all ? j : CandidateKey.id(keys[j]);
    }

    /** Index (relative to off) of the largest of {@code l[off .. off+n)}, lowest index on ties (llama.cpp's greedy rule). */
    public static int argmax(float[] l, int off, int n) {
        return VectorOps.argmax(l, off, n);
    }

    private static void checkRanges(float[] logits, int off, int vocab, int[] history, int historyLen) {
        if (vocab < 1 || off < 0 || off > logits.length - vocab) {
            throw new IllegalArgumentException("logits range out of bounds: off=" + off + ", vocab=" + vocab
                    + ", expected vocab >= 1 and off + vocab <= logits.length=" + logits.length);
        }
        if (historyLen < 0 || historyLen > history.length) {
            throw new IllegalArgumentException("history length out of bounds: historyLen=" + historyLen
                    + ", expected 0 <= historyLen <= history.length=" + history.length);
        }
    }
}
