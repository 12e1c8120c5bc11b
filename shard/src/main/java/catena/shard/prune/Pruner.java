package catena.shard.prune;

import catena.shard.gguf.GgufFile;
import catena.shard.gguf.TensorInfo;
import catena.shard.model.LayerSpec;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Structured pruning: calibrates the unpruned model (the teacher, loaded with F32 weights kept) on
 * the given tokens, decides by {@link Importance} what each layer keeps, optionally refits the
 * output projections by {@link Ridge} so each pruned layer reproduces the teacher layer's output on
 * the teacher's calibration activations, and writes the result with {@link PrunedWriter}.
 */
public final class Pruner {
    private Pruner() {
    }

    /**
     * Whether {@code --repair-from auto} means the student (sequential) refit for the model in
     * {@code in}: yes unless a layer's output is non-linear in its {@code ffn_down}
     * ({@link SequentialRepair#nonLinearFfnOutput}); returns that tensor's name, or null for yes.
     */
    public static String sequentialRepairObstacle(Path in) throws IOException {
        try (GgufFile f = GgufFile.open(in)) {
            return SequentialRepair.nonLinearFfnOutput(f, ModelConfig.from(f).layerCount());
        }
    }

    /**
     * Prunes {@code in} to {@code out}, calibrating on {@code text} (the calibration file's tokens)
     * plus {@code o.sampled()} tokens sampled from the teacher; {@code bos} replaces each calibration
     * chunk's first token (-1: keep).
     */
    public static PruneReport prune(Path in, Path out, int[] text, int bos, PruneOptions o) throws IOException {
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IllegalArgumentException("output " + out + " is the input file");
        }
        Calibration cal;
        ModelConfig c;
        int ctx;
        List<int[]> tokens;
        try (Model teacher = Model.load(in, LoadOptions.keepF32(true))) {
            c = teacher.config();
            requireSupported(c, o);
            ctx = Math.min(o.ctx(), c.contextLength());
            tokens = new ArrayList<>();
            tokens.add(text);
            if (o.sampled() > 0) {
                tokens.addAll(SelfSample.sample(teacher, o.sampled(), ctx, bos, o.seed()));
            }
            cal = Calibration.run(teacher, tokens, ctx, bos, o.repair() || o.measure() == Importance.Measure.OBS,
                    sequential(o) && o.ffnRatio() > 0, sequential(o) && o.repairAttention());
        }
        int n = c.layerCount();
        PrunePlan plan = PrunePlan.none(n);
        double[] ffnBefore = nan(n);
        double[] ffnAfter = nan(n);
        double[] attBefore = nan(n);
        double[] attAfter = nan(n);
        double[] influence = new double[n];
        for (int l = 0; l < n; l++) {
            influence[l] = 1 - cal.meanCosine(l);
        }
        double[] cos = new double[n];
        for (int l = 0; l < n; l++) {
            cos[l] = cal.meanCosine(l);
        }
        for (int l : Importance.layersToDrop(cos, o.dropLayers())) {
            plan.dropped()[l] = true;
        }
        try (GgufFile f = GgufFile.open(in)) {
            String nonLinear = o.repair() && o.sequential() && o.ffnRatio() > 0
                    ? SequentialRepair.nonLinearFfnOutput(f, n) : null;
            if (nonLinear != null) {
                throw new IllegalArgumentException("--repair-from=student: " + nonLinear + " makes the layer output"
                        + " non-linear in ffn_down, so it cannot be fitted to the teacher's layer output; expected a"
                        + " model without a post-FFN norm, output scale or per-layer inputs (e.g. llama, gemma), or"
                        + " --repair-from teacher");
            }
            for (int l = 0; l < n && o.repairAttention(); l++) {
                if (!SequentialRepair.attentionRefittable(f, l)) {
                    throw new IllegalArgumentException("--repair-attn=on: layer " + l + " has a post-attention norm "
                            + "(blk." + l + ".post_attention_norm.weight), which makes the target non-linear in "
                            + "attn_output; expected a model without one (e.g. llama), or --repair-attn off");
                }
            }
            int dim = c.dim();
            for (int l = 0; l < n; l++) {
                if (plan.dropped()[l]) {
                    continue;
                }
                LayerSpec s = c.layer(l);
                String b = "blk." + l + ".";
                if (o.ffnRatio() > 0) {
                    int width = s.ffnDim();
                    int keep = Importance.keepCount(width, o.ffnRatio(), o.multiple());
                    if (keep < width) {
                        float[] down = Tensors.read(f, tensor(f, b + "ffn_down.weight"));
                        // with sequential repair, SequentialRepair replaces a surgeon's choice made on the teacher's
                        // Gram by one made on the student's own activations and targets, layer by layer
                        int[] kept = o.measure() == Importance.Measure.OBS
                                ? SurgeonSelection.keep(down, dim, width, cal.ffnGram(l), keep, o.alpha())
                                : Importance.keepTop(scores(f, b, cal, l, o.measure(), down, dim, width), keep);
                        plan.keptNeurons()[l] = kept;
                        if (o.repair() && !o.sequential()) {
                            double[] g = cal.ffnGram(l);
                            float[] v = Ridge.refit(down, dim, width, g, kept, o.alpha());
                            plan.ffnDown()[l] = v;
                            double energy = Ridge.energy(down, dim, width, g);
                            ffnBefore[l] = Ridge.error(down, Ridge.columns(down, dim, width, kept), dim, width, g, kept)
                                    / energy;
                            ffnAfter[l] = Ridge.error(down, v, dim, width, g, kept) / energy;
                        }
                    }
                }
                int group = s.heads() / s.kvHeads();
                int remove = (int) Math.round(o.headRatio() * group);
                if (remove > 0) {
                    int q = s.qDim();
                    float[] wo = Tensors.read(f, tensor(f, b + "attn_output.weight"));
                    double[] norms = new double[s.heads()];
                    for (int h = 0; h < norms.length; h++) {
                        norms[h] = cal.meanHeadNorm(l, h);
                    }
                    int[] kept = Importance.keptHeads(Importance.headScores(norms, wo, dim, s.heads(), s.headDim()),
                            s.kvHeads(), remove);
                    plan.keptHeads()[l] = kept;
                    if (o.repair()) {
                        int[] cols = Tensors.expand(kept, s.headDim());
                        double[] g = cal.attentionGram(l);
                        float[] v = Ridge.refit(wo, dim, q, g, cols, o.alpha());
                        plan.attnOutput()[l] = v;
                        double energy = Ridge.energy(wo, dim, q, g);
                        attBefore[l] = Ridge.error(wo, Ridge.columns(wo, dim, q, cols), dim, q, g, cols) / energy;
                        attAfter[l] = Ridge.error(wo, v, dim, q, g, cols) / energy;
                    }
                }
            }
            if (sequential(o)) {
                Path dir = out.toAbsolutePath().getParent();
                SequentialRepair.run(f, c, plan, cal, tokens, ctx, bos, o.alpha(), o.measure() == Importance.Measure.OBS,
                        o.repairAttention(), dir, new SequentialRepair.Errors(ffnBefore, ffnAfter, attBefore, attAfter));
            }
            PrunedWriter.write(f, c, plan, out);
        }
        int[] widths = new int[n];
        int[] heads = new int[n];
        for (int l = 0; l < n; l++) {
            widths[l] = plan.keptNeurons()[l] == null ? c.layer(l).ffnDim() : plan.keptNeurons()[l].length;
            heads[l] = plan.keptHeads()[l] == null ? c.layer(l).heads() : plan.keptHeads()[l].length;
        }
        return new PruneReport(cal.tokens(), widths, heads, plan.dropped().clone(), ffnBefore, ffnAfter, attBefore,
                attAfter, influence);
    }

    /**
     * Whether the sequential pass runs: FFN neurons to refit, or with the attention repair anything
     * pruned (every later layer's attention output can absorb the change).
     */
    private static boolean sequential(PruneOptions o) {
        return o.repair() && o.sequential()
                && (o.ffnRatio() > 0 || (o.repairAttention() && (o.headRatio() > 0 || o.dropLayers() > 0)));
    }

    /** Per-neuron scores of layer {@code l} (prefix {@code b}) by a per-neuron measure. */
    private static double[] scores(GgufFile f, String b, Calibration cal, int l, Importance.Measure m, float[] down,
                                   int dim, int width) {
        float[] up = m == Importance.Measure.WEIGHT ? Tensors.read(f, tensor(f, b + "ffn_up.weight")) : null;
        double[] act = new double[width];
        for (int j = 0; j < width; j++) {
            act[j] = m == Importance.Measure.RMS ? cal.rmsActivation(l, j) : cal.meanAbsActivation(l, j);
        }
        return Importance.neuronScores(m, act, down, up, dim, width);
    }

    private static void requireSupported(ModelConfig c, PruneOptions o) {
        if (c.experts() > 0) {
            throw new IllegalArgumentException("prune: experts=" + c.experts() + ", expected a dense model (MoE layers "
                    + "are not supported)");
        }
        if (c.pleDim() > 0 && o.dropLayers() > 0) {
            throw new IllegalArgumentException("prune --layers: model has per-layer embeddings (embedding_length_per_"
                    + "layer_input=" + c.pleDim() + "), whose tensors are laid out per layer; dropping layers is not "
                    + "supported");
        }
        for (int l = 0; l < c.layerCount() && o.dropLayers() > 0; l++) {
            if (c.layer(l).sliding() || !c.ownsKv(l)) {
                throw new IllegalArgumentException("prune --layers: layer " + l + " is a sliding-window or KV-shared "
                        + "layer; its pattern is derived from the layer index, so dropping layers would change it");
            }
        }
    }

    private static TensorInfo tensor(GgufFile f, String name) {
        TensorInfo t = f.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException("missing tensor '" + name + "' in " + f.path());
        }
        return t;
    }

    private static double[] nan(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }
}
