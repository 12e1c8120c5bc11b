package catena.gateway.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A benchmark's prompts as token ids: every prompt is {@code inputLen} ids, of which the first
 * {@code prefixLen} are one of {@code groups} shared prefixes (system prompts, for prefix caching
 * and prefix-aware routing; each used by the same number of prompts, give or take one, in a
 * random order) and the rest drawn at random from {@code [low, high)}. Seeded, so runs compare.
 */
public final class PromptSet {
    private PromptSet() {
    }

    public static List<int[]> make(int count, int inputLen, int prefixLen, int low, int high, long seed) {
        return make(count, inputLen, prefixLen, 1, low, high, seed);
    }

    public static List<int[]> make(int count, int inputLen, int prefixLen, int groups, int low, int high, long seed) {
        if (inputLen < 1) {
            throw new IllegalArgumentException("--input-len=" + inputLen + ", expected >= 1");
        }
        if (prefixLen < 0 || prefixLen > inputLen) {
            throw new IllegalArgumentException("--prefix-len=" + prefixLen + ", expected 0.." + inputLen
                    + " (at most --input-len)");
        }
        if (groups < 1) {
            throw new IllegalArgumentException("--prefix-groups=" + groups + ", expected >= 1");
        }
        if (high <= low) {
            throw new IllegalArgumentException("token id range [" + low + ", " + high + ") is empty");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[][] prefixes = new int[groups][prefixLen];
        for (int[] prefix : prefixes) {
            for (int i = 0; i < prefixLen; i++) {
                prefix[i] = random.nextInt(low, high);
            }
        }
        int[] group = new int[count];
        for (int p = 0; p < count; p++) {
            group[p] = p % groups;
        }
        for (int p = count - 1; p > 0; p--) {
            int q = random.nextInt(p + 1);
            int t = group[p];
            group[p] = group[q];
            group[q] = t;
        }
        List<int[]> out = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            int[] ids = new int[inputLen];
            System.arraycopy(prefixes[group[p]], 0, ids, 0, prefixLen);
            for (int i = prefixLen; i < inputLen; i++) {
                ids[i] = random.nextInt(low, high);
            }
            out.add(ids);
        }
        return out;
    }
}
