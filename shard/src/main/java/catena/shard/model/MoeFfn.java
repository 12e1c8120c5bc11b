package catena.shard.model;

import catena.shard.kernel.MatMul;

/**
 * The routed-expert branch of a Gemma 4 MoE layer (GEMMA_SPEC §8.6) for a batch of rows. Each row
 * picks its top-k experts; the rows are then grouped per expert so that every chosen expert's
 * weights are read once per pass, and experts no row chose are not read at all.
 */
final class MoeFfn {
    private final int dim;
    private final float eps;
    private int rows;
    private float[] routerIn = new float[0];
    private float[] logits = new float[0];
    private int[] chosen = new int[0];
    private float[] weight = new float[0];
    private int[] members = new int[0];
    private float[] in = new float[0];
    private float[] gate = new float[0];
    private float[] up = new float[0];
    private float[] y = new float[0];
    /** Output of the last {@link #apply}: [rows][dim], before post_ffw_norm_2. */
    float[] out = new float[0];
    private final GatedActivation glu = new GatedActivation(true);

    MoeFfn(int dim, float eps) {
        this.dim = dim;
        this.eps = eps;
    }

    /**
     * {@code out[r] = Σ_e w_{r,e} · down_e(gelu(gate_e u_r) ⊙ up_e u_r) · downScale[e]} over row r's
     * chosen experts; the router reads the residual {@code x1}, the experts read {@code u}
     * (x1 normed by pre_ffw_norm_2).
     */
    void apply(MoeWeights w, float[] x1, float[] u, int n) {
        ensure(w, n);
        route(w, x1, n);
        java.util.Arrays.fill(out, 0, n * dim, 0f);
        int k = w.used();
        for (int e = 0; e < w.experts(); e++) {
            int m = 0;
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < k; j++) {
                    if (chosen[r * k + j] == e) {
                        members[m] = r * k + j;
                        System.arraycopy(u, r * dim, in, m * dim, dim);
                        m++;
                    }
                }
            }
            if (m > 0) {
                expert(w, e, m);
            }
        }
    }

    /** Softmax router, top-k by probability (lowest id on ties), weights renormalized over the k. */
    private void route(MoeWeights w, float[] x1, int n) {
        int ne = w.experts();
        int k = w.used();
        float invSqrtDim = (float) (1.0 / Math.sqrt(dim));
        RmsNorm.apply(x1, routerIn, n, dim, null, eps);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < dim; i++) {
                routerIn[r * dim + i] = routerIn[r * dim + i] * invSqrtDim * w.routerScale()[i];
            }
        }
        MatMul.matmul(w.router(), routerIn, logits, n);
        for (int r = 0; r < n; r++) {
            int off = r * ne;
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < ne; e++) {
                max = Math.max(max, logits[off + e]);
            }
            double sum = 0;
            for (int e = 0; e < ne; e++) {
                logits[off + e] = (float) Math.exp(logits[off + e] - max);
                sum += logits[off + e];
            }
            double picked = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < ne; e++) {
                    if (!taken(r, k, j, e) && (best < 0 || logits[off + e] > logits[off + best])) {
                        best = e;
                    }
                }
                chosen[r * k + j] = best;
                weight[r * k + j] = (float) (logits[off + best] / sum);
                picked += weight[r * k + j];
            }
            for (int j = 0; j < k; j++) {
                weight[r * k + j] = (float) (weight[r * k + j] / picked);
            }
        }
    }

    private boolean taken(int r, int k, int j, int e) {
        for (int i = 0; i < j; i++) {
            if (chosen[r * k + i] == e) {
                return true;
            }
        }
        return false;
    }

    /** Runs expert {@code e} on the {@code m} gathered rows of {@code in} and adds each result to its row. */
    private void expert(MoeWeights w, int e, int m) {
        int f = w.ffnDim();
        int k = w.used();
        MatMul.matmul2(w.gate()[e], gate, w.up()[e], up, in, m);
        glu.apply(gate, up, m * f);
        MatMul.matmul(w.down()[e], gate, y, m);
        for (int i = 0; i < m; i++) {
            int r = members[i] / k;
            float s = weight[members[i]] * w.downScale()[e];
            for (int d = 0; d < dim; d++) {
                out[r * dim + d] += s * y[i * dim + d];
            }
        }
    }

    private void ensure(MoeWeights w, int n) {
        if (n <= rows && logits.length >= n * w.experts() && chosen.length >= n * w.used()
                && gate.length >= n * w.ffnDim()) {
            return;
        }
        int k = w.used();
        routerIn = new float[n * dim];
        logits = new float[n * w.experts()];
        chosen = new int[n * k];
        weight = new float[n * k];
        members = new int[n * k];
        in = new float[n * dim];
        gate = new float[n * w.ffnDim()];
        up = new float[n * w.ffnDim()];
        y = new float[n * dim];
        out = new float[n * dim];
        rows = n;
    }
}
