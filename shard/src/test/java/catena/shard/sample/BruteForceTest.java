package catena.shard.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The filters against a plain full sort of the vocabulary (the reference llama3.java's heap bug
 * would have failed), on seeded random logits with and without ties, including the bucketed
 * top-p path over a 262144-token vocabulary.
 */
class BruteForceTest {
    @Test
    void shouldKeepWhatAFullSortKeepsWhenParamsAndLogitsAreRandom() {
        RandomGenerator r = Fixtures.random(2024);
        for (int c = 0; c < 300; c++) {
            int vocab = 1 + r.nextInt(3000);
            float[] l = Fixtures.gaussian(vocab, 0.1 + 4 * r.nextDouble(), r.nextLong());
            if (r.nextBoolean()) {
                for (int i = 0; i < vocab; i++) {
                    l[i] = Math.round(l[i] * 4) / 4f; // many ties
                }
            }
            int topK = r.nextBoolean() ? 0 : 1 + r.nextInt(vocab + 5);
            float topP = r.nextBoolean() ? 1f : (float) (0.01 + 0.99 * r.nextDouble());
            float minP = r.nextBoolean() ? 0f : (float) r.nextDouble() * 0.5f;
            SamplingParams p = Fixtures.params(1f, topK, topP, minP, 0);
            assertThat(Fixtures.kept(l, p)).as("case %d: %s, vocab %d", c, p, vocab)
                    .isEqualTo(reference(l, sorted(l), p));
        }
    }

    @Test
    void shouldKeepWhatAFullSortKeepsWhenTopPRunsOverALargeVocabulary() {
        int vocab = 262_144;
        for (double sigma : new double[] {0.5, 3, 12}) {
            float[] l = Fixtures.gaussian(vocab, sigma, 7);
            Integer[] ids = sorted(l);
            for (float topP : new float[] {0.05f, 0.5f, 0.9f, 0.99f}) {
                SamplingParams p = Fixtures.params(0.8f, 0, topP, 0f, 0);
                Set<Integer> kept = Fixtures.kept(l, p);
                assertThat(kept).as("sigma %s, top_p %s", sigma, topP).isEqualTo(reference(l, ids, p));
                assertThat(kept.size()).isBetween(1, vocab - 1);
            }
        }
    }

    @Test
    void shouldKeepTheLowestIdsWhenAllLogitsAreEqual() {
        float[] l = new float[1000];
        Arrays.fill(l, 0.25f);
        Set<Integer> expected = new TreeSet<>();
        for (int i = 0; i < 500; i++) {
            expected.add(i);
        }
        assertThat(Fixtures.kept(l, Fixtures.params(1f, 0, 0.5f, 0f, 0))).isEqualTo(expected);
        assertThat(Fixtures.kept(l, Fixtures.params(1f, 500, 1f, 0f, 0))).isEqualTo(expected);
    }

    /** All ids by logit descending, id ascending: a plain full sort. */
    static Integer[] sorted(float[] l) {
        Integer[] ids = new Integer[l.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        Arrays.sort(ids, Comparator.<Integer>comparingDouble(i -> -l[i]).thenComparingInt(i -> i));
        return ids;
    }

    /** The chain written the slow, obvious way over the {@link #sorted} ids: cut the sorted list. */
    static Set<Integer> reference(float[] l, Integer[] ids, SamplingParams p) {
        int n = p.topK() > 0 ? Math.min(p.topK(), ids.length) : ids.length;
        float max = l[ids[0]];
        if (p.topP() < 1f) {
            double z = 0;
            for (int j = 0; j < n; j++) {
                z += Math.exp(l[ids[j]] - max);
            }
            double cum = 0;
            for (int j = 0; j < n; j++) {
                cum += Math.exp(l[ids[j]] - max);
                if (cum >= p.topP() * z) {
                    n = j + 1;
                    break;
                }
            }
        }
        Set<Integer> kept = new TreeSet<>();
        float minLogit = max + (float) Math.log(p.minP());
        for (int j = 0; j < n; j++) {
            if (p.minP() == 0f || l[ids[j]] >= minLogit) {
                kept.add(ids[j]);
            }
        }
        return kept;
    }
}
