package catena.shard.model;

/**
 * Rotary position embedding (ggml_rope_ext with ext_factor 0): pair i of the first {@code dims}
 * elements of a head rotates by {@code pos * scale * base^(-2i/dims)}. NEOX pairs (i, i+dims/2)
 * for Gemma; NORM pairs (2i, 2i+1) for Llama.
 */
final class Rope {
    private final int dims;
    private final boolean neox;
    private final double[] invFreq;
    private final float scale;

    Rope(int dims, float base, float scale, boolean neox) {
        this.dims = dims;
        this.neox = neox;
        this.scale = scale;
        this.invFreq = new double[dims / 2];
        for (int i = 0; i < dims / 2; i++) {
            invFreq[i] = Math.pow(base, -2.0 * i / dims);
        }
    }

    /** Fills {@code cos/sin[0 .. dims/2)} for a position (shared by every head of the row). */
    void angles(int pos, float[] cos, float[] sin) {
        for (int i = 0; i < dims / 2; i++) {
            double theta = pos * (double) scale * invFreq[i];
            cos[i] = (float) Math.cos(theta);
            sin[i] = (float) Math.sin(theta);
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code headDim} starting at {@code off}. */
    void rotate(float[] v, int off, int heads, int headDim, float[] cos, float[] sin) {
        int half = dims / 2;
        for (int h = 0; h < heads; h++) {
            int b = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int i0 = neox ? b + i : b + 2 * i;
                int i1 = neox ? b + i + half : b + 2 * i + 1;
                float x0 = v[i0];
                float x1 = v[i1];
                v[i0] = x0 * cos[i] - x1 * sin[i];
                v[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
