package catena.shard.model;

import catena.shard.tensor.Matrix;
import catena.shard.tensor.Weights;
import java.util.function.ToLongFunction;

/** Gemma 4 per-layer embedding tensors of one layer: gate {E→P}, projection {P→E} and its norm. */
record PleWeights(Matrix inpGate, Matrix proj, float[] postNorm) {

    static PleWeights load(Weights w, int l) {
        String b = "blk." + l + ".";
        return new PleWeights(w.matrix(b + "inp_gate.weight"), w.matrix(b + "proj.weight"),
                w.vector(b + "post_norm.weight"));
    }

    long bytes(ToLongFunction<Matrix> size) {
        return size.applyAsLong(inpGate) + size.applyAsLong(proj);
    }
}
