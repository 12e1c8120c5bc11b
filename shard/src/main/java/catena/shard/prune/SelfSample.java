package catena.shard.prune;

import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Calibration text sampled from the teacher itself: sequences that start at BOS and continue by
 * plain multinomial sampling at temperature 1, i.e. drawn from the teacher's own distribution (as
 * data-free distillation does). A few thousand tokens of real text leave a ridge refit of a
 * 64x129 projection overfitted; the teacher can supply as many more tokens as wanted, and none
 * of them come from the text the result is evaluated on.
 */
public final class SelfSample {
    private SelfSample() {
    }

    /** {@code count} tokens in sequences of {@code ctx} (the last one shorter), reproducible from {@code seed}. */
    public static List<int[]> sample(Model model, int count, int ctx, int bos, long seed) {
        if (bos < 0) {
            throw new IllegalArgumentException("self-sampled calibration: the vocabulary has no BOS token to start from");
        }
        int vocab = model.config().vocabSize();
        float[] x = new float[model.config().dim()];
        float[] logits = new float[vocab];
        SplittableRandom rng = new SplittableRandom(seed);
        Batch batch = new Batch();
        List<int[]> out = new ArrayList<>();
        for (int left = count; left > 1; left -= ctx) {
            int n = Math.min(ctx, left);
            int[] seq = new int[n];
            seq[0] = bos;
            KvCache cache = model.newCache();
            for (int i = 0; i + 1 < n; i++) {
                model.embed(seq, i, 1, x);
                batch.clear();
                model.forward(batch.add(cache, seq, i, 1), x);
                model.logits(x, 0, logits);
                seq[i + 1] = draw(logits, rng.nextDouble());
            }
            cache.free(); // its off-heap pages return to the pool at the next pass
            out.add(seq);
        }
        return out;
    }

    /** The token whose cumulative softmax probability first exceeds {@code u} in [0, 1). */
    static int draw(float[] logits, double u) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double target = u * sum;
        double acc = 0;
        for (int i = 0; i < logits.length; i++) {
            acc += Math.exp(logits[i] - max);
            if (acc > target) {
                return i;
            }
        }
        return logits.length - 1;
    }
}
