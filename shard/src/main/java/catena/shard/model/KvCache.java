package catena.shard.model;

import java.util.Arrays;

/**
 * Keys and values of one sequence for the layers of one model slice, in f32. A global layer keeps
 * every position (grown in chunks as the sequence lengthens); a sliding-window layer keeps a ring
 * of its window plus the rows of the pass in flight, because a batched prefill writes all its rows
 * before any of them attends. A Gemma 4 KV-shared layer holds nothing: its reads go to its donor
 * layer's arrays (same geometry and window), which must be in the same slice. Freed by dropping
 * the reference; {@link #bytes()} is what cache accounting counts.
 */
public final class KvCache {
    private static final int CHUNK = 64;

    private final LayerSpec[] specs;
    private final int fromLayer;
    private final int maxPositions;
    private final float[][] keys;
    private final float[][] values;
    /** Slots of each layer; positions map to slot {@code pos % capacity} in a ring, {@code pos} otherwise. */
    private final int[] capacity;
    /** Index (into the arrays above) of the layer whose K/V each layer reads: itself or its donor. */
    private final int[] source;
    private int length;

    KvCache(ModelConfig config, int fromLayer, int toLayer) {
        this.fromLayer = fromLayer;
        this.maxPositions = config.contextLength();
        int n = toLayer - fromLayer;
        this.specs = new LayerSpec[n];
        this.keys = new float[n][];
        this.values = new float[n][];
        this.capacity = new int[n];
        this.source = new int[n];
        for (int i = 0; i < n; i++) {
            specs[i] = config.layer(fromLayer + i);
            keys[i] = new float[0];
            values[i] = new float[0];
            source[i] = specs[i].kvSource() - fromLayer;
            if (source[i] < 0) {
                throw new IllegalArgumentException("layer " + (fromLayer + i) + " reads the KV cache of layer "
                        + specs[i].kvSource() + ", which is outside the slice [" + fromLayer + ", " + toLayer + ")");
            }
        }
    }

    /** Tokens seen so far (the position of the next token). */
    public int length() {
        return length;
    }

    /** The longest sequence this cache holds (the model's context length). */
    public int maxPositions() {
        return maxPositions;
    }

    /** Bytes currently held. */
    public long bytes() {
        long b = 0;
        for (int i = 0; i < keys.length; i++) {
            b += 4L * (keys[i].length + values[i].length);
        }
        return b;
    }

    /** Makes room for positions {@code length .. length+count} in every layer. */
    void reserve(int count) {
        if (length + count > maxPositions) {
            throw new IllegalArgumentException("sequence of " + (length + count)
                    + " tokens exceeds the model's context length " + maxPositions);
        }
        for (int i = 0; i < specs.length; i++) {
            LayerSpec s = specs[i];
            if (s.kvDim() == 0 || source[i] != i) {
                continue;
            }
            int needed = s.sliding() ? Math.min(s.window() + count - 1, length + count) : length + count;
            if (needed > capacity[i]) {
                grow(i, s, needed);
            }
        }
    }

    private void grow(int i, LayerSpec s, int needed) {
        int cap = Math.min(Math.max(needed, capacity[i] + capacity[i] / 2) + CHUNK - 1, s.sliding()
                ? Integer.MAX_VALUE : maxPositions);
        cap = Math.max(cap, needed);
        int kvDim = s.kvDim();
        if (!s.sliding()) {
            keys[i] = Arrays.copyOf(keys[i], cap * kvDim);
            values[i] = Arrays.copyOf(values[i], cap * kvDim);
        } else {
            // Re-home the live part of the ring (the last window-1 positions) into the bigger ring.
            float[] k = new float[cap * kvDim];
            float[] v = new float[cap * kvDim];
            for (int p = Math.max(0, length - Math.min(capacity[i], s.window())); p < length; p++) {
                int from = (p % capacity[i]) * kvDim;
                int to = (p % cap) * kvDim;
                System.arraycopy(keys[i], from, k, to, kvDim);
                System.arraycopy(values[i], from, v, to, kvDim);
            }
            keys[i] = k;
            values[i] = v;
        }
        capacity[i] = cap;
    }

    /** Offset of position {@code pos} in layer {@code layer}'s key/value arrays. */
    int offset(int layer, int pos) {
        int i = source[layer - fromLayer];
        int slot = specs[i].sliding() ? pos % capacity[i] : pos;
        return slot * specs[i].kvDim();
    }

    float[] keys(int layer) {
        return keys[source[layer - fromLayer]];
    }

    float[] values(int layer) {
        return values[source[layer - fromLayer]];
    }

    void advance(int count) {
        length += count;
    }
}
