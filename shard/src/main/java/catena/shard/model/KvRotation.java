package catena.shard.model;

/**
 * llama.cpp's rotation of a quantized KV cache (PR 21038, on by default since 2026-04): with a
 * quantized K (V) cache, queries and keys (values) are multiplied per head by an orthonormal
 * Walsh-Hadamard matrix before the keys and values are stored, attention runs on the rotated
 * vectors (dot products are unchanged; quantization sees outliers spread out), and the attention
 * output is rotated back with the value matrix (H = H^T = H^-1).
 *
 * <p>Which layers, as llama.cpp decides it: each cache (a model with sliding-window layers has
 * one for them and one for the global layers) rotates when all its layers have one head size,
 * and the model's first layer's head size is a multiple of 64. Keys use the largest power of two
 * (from 64) dividing the head size, values blocks of 64.
 */
final class KvRotation {
    /** Value rotation block (llama.cpp: smaller is better for V). */
    static final int V_BLOCK = 64;

    private KvRotation() {
    }

    /**
     * Per layer of the model: the key rotation block, or 0 where none (not a quantized type,
     * or the layer's cache does not qualify). Values rotate by {@link #V_BLOCK} wherever keys do.
     */
    static int[] keyBlocks(ModelConfig config, KvType type) {
        int n = config.layerCount();
        int[] blocks = new int[n];
        if (type != KvType.Q8_0 || config.layer(0).headDim() % 64 != 0) {
            return blocks;
        }
        for (boolean sliding : new boolean[] {false, true}) {
            int head = 0;
            for (int l = 0; l < n; l++) {
                LayerSpec s = config.layer(l);
                if (s.sliding() != sliding || !config.ownsKv(l) || s.kvDim() == 0) {
                    continue;
                }
                head = head == 0 ? s.headDim() : head == s.headDim() ? head : -1;
            }
            if (head <= 0 || head % 64 != 0) {
                continue;
            }
            int block = 64;
            while (head % (2 * block) == 0) {
                block *= 2;
            }
            for (int l = 0; l < n; l++) {
                if (config.layer(l).sliding() == sliding) {
                    blocks[l] = block;
                }
            }
        }
        return blocks;
    }

    /**
     * Multiplies each of the {@code n / block} consecutive blocks of {@code x[off .. off+n)} by
     * the normalized Walsh-Hadamard matrix of size {@code block} (ggml_gen_hadamard's Sylvester
     * order: entry (i, j) = (-1)^popcount(i &amp; j) / sqrt(block)), in place.
     */
    static void rotate(float[] x, int off, int n, int block) {
        float norm = (float) (1.0 / Math.sqrt(block));
        for (int b = off; b < off + n; b += block) {
            for (int h = 1; h < block; h <<= 1) {
                for (int i = b; i < b + block; i += 2 * h) {
                    for (int j = i; j < i + h; j++) {
                        float u = x[j];
                        float v = x[j + h];
                        x[j] = u + v;
                        x[j + h] = u - v;
                    }
                }
            }
            for (int i = b; i < b + block; i++) {
                x[i] *= norm;
            }
        }
    }

    /** Plain-loop reference of {@link #rotate}: the dense matrix product llama.cpp's graph computes. */
    static void rotateDense(float[] x, int off, int n, int block) {
        float norm = (float) (1.0 / Math.sqrt(block));
        float[] y = new float[block];
        for (int b = off; b < off + n; b += block) {
            for (int i = 0; i < block; i++) {
                float s = 0f;
                for (int j = 0; j < block; j++) {
                    s += (Integer.bitCount(i & j) % 2 == 0 ? norm : -norm) * x[b + j];
                }
                y[i] = s;
            }
            System.arraycopy(y, 0, x, b, block);
        }
    }
}
