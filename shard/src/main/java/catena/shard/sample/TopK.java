package catena.shard.sample;

import java.util.Arrays;

/**
 * The k best tokens without sorting the vocabulary: a bounded max-heap of {@link CandidateKey}s
 * whose root is the worst kept candidate, so most tokens cost one comparison; then the k survivors
 * are sorted. O(vocab + k log k) for typical logits.
 */
final class TopK {
    private TopK() {
    }

    /** Fills {@code keys[0..k)} with the k best of {@code l[base .. base+vocab)}, best first; 0 < k <= vocab. */
    static void select(float[] l, int base, int vocab, int k, long[] keys) {
        for (int i = 0; i < k; i++) {
            keys[i] = CandidateKey.of(l[base + i], i);
        }
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(keys, i, k);
        }
        for (int i = k; i < vocab; i++) {
            long key = CandidateKey.of(l[base + i], i);
            if (key < keys[0]) {
                keys[0] = key;
                siftDown(keys, 0, k);
            }
        }
        Arrays.sort(keys, 0, k);
    }

    private static void siftDown(long[] h, int i, int size) {
        long v = h[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && h[c + 1] > h[c]) {
                c++;
            }
            if (h[c] <= v) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
    }
}
