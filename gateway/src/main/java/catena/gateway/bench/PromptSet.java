package catena.gateway.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A benchmark's prompts as token ids: every prompt is {@code inputLen} ids, of which the first
 * {@code prefixLen} are the same in all of them (a shared system prompt, for prefix caching) and
 * the rest drawn at random from {@code [low, high)}. Seeded, so runs compare.
 */
public final class PromptSet {
    private PromptSet() {
    }

    public static List<int[]> make(int count, int inputLen, int prefixLen, int low, int high, long seed) {
        if (inputLen < 1) {
            throw new IllegalArgumentException("--input-len=" + inputLen + ", expected >= 1");
        }
        if (prefixLen < 0 || prefixLen > inputLen) {
            throw new IllegalArgumentException("--prefix-len=" + prefixLen + ", expected 0.." + inputLen
                    + " (at most --input-len)");
        }
        if (high <= low) {
            throw new IllegalArgumentException("token id range [" + low + ", " + high + ") is empty");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] prefix = new int[prefixLen];
        for (int i = 0; i < prefixLen; i++) {
            prefix[i] = random.nextInt(low, high);
        }
        List<int[]> out = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            int[] ids = new int[inputLen];
            System.arraycopy(prefix, 0, ids, 0, prefixLen);
            for (int i = prefixLen; i < inputLen; i++) {
                ids[i] = random.nextInt(low, high);
            }
            out.add(ids);
        }
        return out;
    }
}
