package catena.shard.model;

import catena.shard.gguf.GgufFormatException;
import catena.shard.tensor.Matrix;
import catena.shard.tensor.Weights;
import java.util.function.ToLongFunction;

/**
 * Gemma 4 mixture-of-experts tensors of one layer. The experts are row slices of the loaded 3-D
 * tensors (views, not copies of their own): {@code gate[e]}, {@code up[e]} are {F_exp × E}, {@code down[e]}
 * {E × F_exp}. A fused {@code ffn_gate_up_exps} holds per expert F_exp gate rows then F_exp up rows.
 * The router is kept exact (never re-quantized): its logits pick the experts.
 */
record MoeWeights(Matrix router, float[] routerScale, float[] preNorm2, float[] postNorm1, float[] postNorm2,
                  Matrix[] gate, Matrix[] up, Matrix[] down, float[] downScale, int used) {

    static MoeWeights load(Weights w, ModelConfig c, int l) {
        String b = "blk." + l + ".";
        int n = c.experts();
        int f = c.expertFfn();
        int dim = c.dim();
        if (n == 0) {
            throw new GgufFormatException(b + "ffn_gate_inp.weight exists but " + c.arch().key
                    + ".expert_count is missing");
        }
        Matrix router = w.exactMatrix(b + "ffn_gate_inp.weight");
        require(b + "ffn_gate_inp.weight", router, n, dim);
        Matrix[] gate = new Matrix[n];
        Matrix[] up = new Matrix[n];
        Matrix[] down = new Matrix[n];
        if (w.has(b + "ffn_gate_up_exps.weight")) {
            Matrix gu = w.matrix(b + "ffn_gate_up_exps.weight");
            require(b + "ffn_gate_up_exps.weight", gu, n * 2 * f, dim);
            for (int e = 0; e < n; e++) {
                gate[e] = gu.slice(e * 2 * f, f);
                up[e] = gu.slice(e * 2 * f + f, f);
            }
        } else {
            Matrix g = w.matrix(b + "ffn_gate_exps.weight");
            Matrix u = w.matrix(b + "ffn_up_exps.weight");
            require(b + "ffn_gate_exps.weight", g, n * f, dim);
            require(b + "ffn_up_exps.weight", u, n * f, dim);
            for (int e = 0; e < n; e++) {
                gate[e] = g.slice(e * f, f);
                up[e] = u.slice(e * f, f);
            }
        }
        Matrix d = w.matrix(b + "ffn_down_exps.weight");
        require(b + "ffn_down_exps.weight", d, n * dim, f);
        for (int e = 0; e < n; e++) {
            down[e] = d.slice(e * dim, dim);
        }
        float[] downScale = w.has(b + "ffn_down_exps.scale") ? w.vector(b + "ffn_down_exps.scale") : ones(n);
        return new MoeWeights(router, vector(w, b + "ffn_gate_inp.scale", dim), vector(w, b + "pre_ffw_norm_2.weight", dim),
                vector(w, b + "post_ffw_norm_1.weight", dim), vector(w, b + "post_ffw_norm_2.weight", dim),
                gate, up, down, length(b + "ffn_down_exps.scale", downScale, n), c.expertsUsed());
    }

    int experts() {
        return gate.length;
    }

    int ffnDim() {
        return gate[0].rows();
    }

    /** Bytes one token reads: the router and its {@code used} experts. */
    long activeBytes(ToLongFunction<Matrix> size) {
        return size.applyAsLong(router)
                + used * (size.applyAsLong(gate[0]) + size.applyAsLong(up[0]) + size.applyAsLong(down[0]));
    }

    private static void require(String name, Matrix m, int rows, int cols) {
        if (m.rows() != rows || m.cols() != cols) {
            throw new GgufFormatException("tensor '" + name + "' has " + m.rows() + " rows of " + m.cols()
                    + ", the metadata implies " + rows + " rows of " + cols);
        }
    }

    private static float[] vector(Weights w, String name, int n) {
        return length(name, w.vector(name), n);
    }

    private static float[] length(String name, float[] v, int n) {
        if (v.length != n) {
            throw new GgufFormatException("tensor '" + name + "' has " + v.length + " elements, expected " + n);
        }
        return v;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
