package catena.shard.model;

import catena.shard.sample.Sampler;
import java.nio.file.Path;

/** Test helpers that drive a model the way inference does. */
final class Runs {
    private Runs() {
    }

    /**
     * Logits of every position of {@code tokens}: the first {@code prefill} tokens in one batched
     * pass, the rest one per pass. Rows carry their token ids, as pipeline stages do (Gemma 4
     * per-layer embeddings need them). Returns [tokens.length][vocab].
     */
    static float[] teacherForced(Path model, boolean keepF32, int[] tokens, int prefill) throws Exception {
        return teacherForced(model, LoadOptions.keepF32(keepF32), tokens, prefill);
    }

    static float[] teacherForced(Path model, LoadOptions options, int[] tokens, int prefill) throws Exception {
        try (Model m = Model.load(model, options)) {
            int dim = m.config().dim();
            int vocab = m.config().vocabSize();
            float[] out = new float[tokens.length * vocab];
            float[] logits = new float[vocab];
            KvCache cache = m.newCache();
            Batch batch = new Batch();
            float[] x = new float[prefill * dim];
            m.embed(tokens, 0, prefill, x);
            m.forward(batch.add(cache, tokens, 0, prefill), x);
            for (int r = 0; r < prefill; r++) {
                m.logits(x, r, logits);
                System.arraycopy(logits, 0, out, r * vocab, vocab);
            }
            for (int t = prefill; t < tokens.length; t++) {
                m.embed(tokens, t, 1, x);
                batch.clear();
                m.forward(batch.add(cache, tokens, t, 1), x);
                m.logits(x, 0, logits);
                System.arraycopy(logits, 0, out, t * vocab, vocab);
            }
            return out;
        }
    }

    static double margin(float[] a, int off, int n) {
        int top = Sampler.argmax(a, off, n);
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (i != top) {
                second = Math.max(second, a[off + i]);
            }
        }
        return a[off + top] - second;
    }
}
