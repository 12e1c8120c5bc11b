package catena.shard.sample;

/**
 * Picks the next token. A pure function of (logits, params, history, step): the random draw of
 * step k comes from a counter-based generator keyed by (seed, k), so any replica can resume a
 * sequence at step k and produce the same tokens.
 *
 * <p>The chain is llama.cpp's default order: repetition penalty, top-k, top-p, min-p, temperature,
 * draw. Top-p and min-p see probabilities at temperature 1, as there. Scratch space is per thread
 * and reused, so the token loop does not allocate.
 */
public final class Sampler {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Sampler() {
    }

    /**
     * The next token from {@code logits[off .. off+vocab)} (not modified). {@code history} holds
     * prompt + generated ids ({@code historyLen} of them) for the repetition penalty; {@code step}
     * is the index of the token being generated.
     */
    public static int sample(float[] logits, int off, int vocab, SamplingParams p, long step, int[] history,
                             int historyLen) {
        float[] l = logits;
        int base = off;
        Scratch s = SCRATCH.get();
        if (p.repetitionPenalty() != 1f && p.repetitionWindow() > 0 && historyLen > 0) {
            l = s.penalized(logits, off, vocab, p, history, historyLen);
            base = 0;
        }
        if (p.greedy()) {
            return argmax(l, base, vocab);
        }
        int k = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        float max = l[base + argmax(l, base, vocab)];
        int n;
        double z;
        if (k < vocab) {
            n = s.topSorted(l, base, vocab, k);
            z = 0;
            for (int i = 0; i < n; i++) {
                z += Math.exp(s.val[i] - max);
            }
        } else {
            // Whole vocabulary: sort only as many of the best as top-p needs (grows by 4x).
            z = 0;
            for (int i = 0; i < vocab; i++) {
                z += Math.exp(l[base + i] - max);
            }
            int m = p.topP() < 1f ? 64 : vocab;
            while (true) {
                n = s.topSorted(l, base, vocab, Math.min(m, vocab));
                if (n == vocab || cumulative(s, n, max, z) >= p.topP()) {
                    break;
                }
                m *= 4;
            }
        }
        // top-p: the shortest prefix whose probability reaches topP (at least one token).
        if (p.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < n; i++) {
                cum += Math.exp(s.val[i] - max) / z;
                if (cum >= p.topP()) {
                    n = i + 1;
                    break;
                }
            }
        }
        // min-p: keep tokens at least minP times as likely as the best one.
        if (p.minP() > 0f) {
            double floor = Math.log(p.minP());
            int keep = 1;
            while (keep < n && s.val[keep] - s.val[0] >= floor) {
                keep++;
            }
            n = keep;
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            s.w[i] = Math.exp((s.val[i] - s.val[0]) / p.temperature());
            total += s.w[i];
        }
        double u = CounterRng.uniform(p.seed(), step) * total;
        for (int i = 0; i < n; i++) {
            u -= s.w[i];
            if (u < 0) {
                return s.idx[i];
            }
        }
        return s.idx[n - 1];
    }

    private static double cumulative(Scratch s, int n, float max, double z) {
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += Math.exp(s.val[i] - max) / z;
        }
        return cum;
    }

    /** Index of the largest logit, lowest index on ties (llama.cpp's greedy rule). */
    public static int argmax(float[] l, int off, int n) {
        int best = 0;
        float bv = l[off];
        for (int i = 1; i < n; i++) {
            if (l[off + i] > bv) {
                bv = l[off + i];
                best = i;
            }
        }
        return best;
    }

    /** Per-thread buffers sized to the largest vocabulary seen. */
    private static final class Scratch {
        float[] copy = new float[0];
        int[] stamp = new int[0];
        int epoch;
        int[] idx = new int[0];
        float[] val = new float[0];
        double[] w = new double[0];

        float[] penalized(float[] logits, int off, int vocab, SamplingParams p, int[] history, int historyLen) {
            if (copy.length < vocab) {
                copy = new float[vocab];
                stamp = new int[vocab];
            }
            System.arraycopy(logits, off, copy, 0, vocab);
            epoch++;
            float pen = p.repetitionPenalty();
            for (int i = Math.max(0, historyLen - p.repetitionWindow()); i < historyLen; i++) {
                int t = history[i];
                if (t < 0 || t >= vocab || stamp[t] == epoch) {
                    continue;
                }
                stamp[t] = epoch;
                copy[t] = copy[t] > 0 ? copy[t] / pen : copy[t] * pen;
            }
            return copy;
        }

        /** The k best (logit desc, id asc) into idx/val[0..k); a size-k min-heap, then a sort. */
        int topSorted(float[] l, int off, int vocab, int k) {
            if (idx.length < k) {
                idx = new int[k];
                val = new float[k];
                w = new double[k];
            }
            int size = 0;
            for (int i = 0; i < vocab; i++) {
                float v = l[off + i];
                if (size < k) {
                    idx[size] = i;
                    val[size] = v;
                    siftUp(size++);
                } else if (better(v, i, val[0], idx[0])) {
                    idx[0] = i;
                    val[0] = v;
                    siftDown(0, size);
                }
            }
            // Heap sort: repeatedly move the worst to the end, leaving best-first order.
            for (int end = size - 1; end > 0; end--) {
                swap(0, end);
                siftDown(0, end);
            }
            return size;
        }

        private static boolean better(float v, int i, float w, int j) {
            return v > w || (v == w && i < j);
        }

        private void siftUp(int c) {
            while (c > 0) {
                int parent = (c - 1) / 2;
                if (!better(val[parent], idx[parent], val[c], idx[c])) {
                    break;
                }
                swap(parent, c);
                c = parent;
            }
        }

        private void siftDown(int c, int size) {
            while (true) {
                int l = 2 * c + 1;
                int r = l + 1;
                int worst = c;
                if (l < size && better(val[worst], idx[worst], val[l], idx[l])) {
                    worst = l;
                }
                if (r < size && better(val[worst], idx[worst], val[r], idx[r])) {
                    worst = r;
                }
                if (worst == c) {
                    return;
                }
                swap(c, worst);
                c = worst;
            }
        }

        private void swap(int a, int b) {
            int ti = idx[a];
            idx[a] = idx[b];
            idx[b] = ti;
            float tv = val[a];
            val[a] = val[b];
            val[b] = tv;
        }
    }
}
