package catena.shard.model;

/**
 * Rotary position embedding (ggml_rope_ext with ext_factor 0): pair i of the first {@code dims}
 * elements of a head rotates by {@code pos * scale * base^(-2i/dims)}. NEOX pairs (i, i+dims/2)
 * for Gemma; NORM pairs (2i, 2i+1) for Llama. Optional per-pair divisors {@code freqFactors}
 * (ggml's freq_factors, Gemma 4's {@code rope_freqs}): a huge divisor leaves a pair unrotated,
 * which is how Gemma 4's "proportional" RoPE rotates only a quarter of a global head.
 */
final class Rope {
    /** Positions remembered (direct-mapped by pos mod this): a batch's rows and a prompt chunk. */
    private static final int MEMO = 128;

    private final int dims;
    private final boolean neox;
    private final double[] invFreq;
    private final float scale;
    /**
     * Angles of recent positions: every layer sharing this Rope (Model shares one per distinct
     * configuration) and every row at that position reuse them instead of calling cos and sin
     * dims/2 times each again (26 layers x 128 pairs per decoded token for the Gemma 3 1B shape).
     * Not thread-safe: used inside {@code Model.forward}, which is serialized.
     */
    private final int[] memoPos = new int[MEMO];
    private final float[][] memoCos;
    private final float[][] memoSin;

    Rope(int dims, float base, float scale, boolean neox) {
        this(dims, base, scale, neox, null);
    }

    Rope(int dims, float base, float scale, boolean neox, float[] freqFactors) {
        if (freqFactors != null && freqFactors.length != dims / 2) {
            throw new IllegalArgumentException("RoPE frequency factors have " + freqFactors.length
                    + " entries for " + dims / 2 + " rotated pairs");
        }
        this.dims = dims;
        this.neox = neox;
        this.scale = scale;
        this.invFreq = new double[dims / 2];
        for (int i = 0; i < dims / 2; i++) {
            invFreq[i] = Math.pow(base, -2.0 * i / dims) / (freqFactors == null ? 1.0 : freqFactors[i]);
        }
        java.util.Arrays.fill(memoPos, -1);
        this.memoCos = new float[MEMO][dims / 2];
        this.memoSin = new float[MEMO][dims / 2];
    }

    /**
     * Gemma 4's proportional RoPE without a {@code rope_freqs} tensor (HF
     * {@code partial_rotary_factor}): the first {@code fraction·dims/2} pairs rotate, the rest pass
     * through (an infinite divisor gives angle 0).
     */
    static float[] partialFactors(int dims, double fraction) {
        float[] f = new float[dims / 2];
        int rotated = (int) (fraction * dims / 2);
        for (int i = 0; i < f.length; i++) {
            f[i] = i < rotated ? 1f : Float.POSITIVE_INFINITY;
        }
        return f;
    }

    /** Fills {@code cos/sin[0 .. dims/2)} for a position (shared by every head of the row). */
    void angles(int pos, float[] cos, float[] sin) {
        int slot = pos & (MEMO - 1);
        float[] c = memoCos[slot];
        float[] s = memoSin[slot];
        if (memoPos[slot] != pos) {
            for (int i = 0; i < dims / 2; i++) {
                double theta = pos * (double) scale * invFreq[i];
                c[i] = (float) Math.cos(theta);
                s[i] = (float) Math.sin(theta);
            }
            memoPos[slot] = pos;
        }
        System.arraycopy(c, 0, cos, 0, dims / 2);
        System.arraycopy(s, 0, sin, 0, dims / 2);
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
