package catena.shard.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import catena.shard.model.ActivationTap;
import catena.shard.model.Batch;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prunes the real stories260K model and checks the files against the engine's own F32 forward of
 * the same weights: an unpruned-shape copy of the teacher in which the removed neurons / heads /
 * layers contribute exactly nothing (their output-projection columns zeroed) and the kept ones
 * carry the pruned file's (possibly repaired) weights. Which units were kept is read back from the
 * pruned file by matching its ffn_up / attn_q rows to the teacher's, not taken from the pruner.
 */
class PrunerTest {
    private static Path teacher;
    private static int[] calibration;
    private static int bos;
    private static int[] probe;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        teacher = Fixtures.file("stories/stories260K-f32.gguf");
        List<String> lines = Files.readAllLines(Fixtures.file("perplexity/stories-a.txt"), StandardCharsets.UTF_8);
        Tokenizer tok;
        try (GgufFile f = GgufFile.open(teacher)) {
            tok = Tokenizer.fromGguf(f.metadata());
        }
        bos = tok.bos();
        calibration = tok.encode(String.join("\n", lines.subList(0, 11)), true, false);
        probe = tok.encode(String.join("\n", lines.subList(12, 15)), true, false);
        probe = Arrays.copyOf(probe, 96);
    }

    private static PruneOptions options(double ffn, double heads, int layers, boolean repair) {
        return new PruneOptions(ffn, heads, layers, repair, 1e-3, 1, Importance.Measure.RMS, 128, 0, 1, true, false);
    }

    /** Logits of every position of {@code probe}, F32 weights kept, one batched pass: [n][vocab]. */
    private static float[] logits(Path model) throws Exception {
        try (Model m = Model.load(model, LoadOptions.keepF32(true))) {
            int n = probe.length;
            int vocab = m.config().vocabSize();
            float[] x = new float[n * m.config().dim()];
            m.embed(probe, 0, n, x);
            m.forward(new Batch().add(m.newCache(), probe, 0, n), x);
            int[] rows = new int[n];
            Arrays.setAll(rows, i -> i);
            float[] out = new float[n * vocab];
            m.logits(x, rows, n, out);
            return out;
        }
    }

    private static void assertSameLogits(float[] actual, float[] expected) {
        double max = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        // the same weights summed in another order (fewer, vs zero-padded, terms): float rounding only
        assertThat(max).as("max |logit difference| (max |logit| %.3f)", scale).isLessThan(1e-5 * scale);
    }

    /** Index of each row of [rows][cols] {@code sub} within {@code full}, matching exactly; blocks of {@code block} rows. */
    private static int[] keptBlocks(float[] full, float[] sub, int cols, int block) {
        int blocks = sub.length / (cols * block);
        int[] kept = new int[blocks];
        outer:
        for (int b = 0; b < blocks; b++) {
            for (int c = 0; c < full.length / (cols * block); c++) {
                if (Arrays.equals(sub, b * cols * block, (b + 1) * cols * block, full, c * cols * block,
                        (c + 1) * cols * block)) {
                    kept[b] = c;
                    continue outer;
                }
            }
            throw new AssertionError("pruned block " + b + " matches no block of the teacher");
        }
        return kept;
    }

    /**
     * The teacher's shapes with the pruned file's weights: kept FFN neurons / heads carry the pruned
     * ffn_down / attn_output columns, removed ones zero columns; a dropped layer gets zero ffn_down
     * and attn_output, so it adds nothing to the residual.
     */
    private Path masked(Path pruned, boolean[] dropped) throws Exception {
        Path out = tmp.resolve("masked.gguf");
        try (GgufFile t = GgufFile.open(teacher); GgufFile p = GgufFile.open(pruned)) {
            GgufWriter w = new GgufWriter();
            w.putAll(t.metadata().asMap());
            int dim = Math.toIntExact(t.tensor("token_embd.weight").cols());
            int headDim = 8;
            for (TensorInfo ti : t.tensors().values()) {
                String name = ti.name();
                float[] m = ti.shape().length == 2 ? Tensors.read(t, ti) : null;
                int rows = ti.shape().length == 2 ? Math.toIntExact(ti.rows()) : 0;
                int cols = ti.shape().length == 2 ? Math.toIntExact(ti.cols()) : 0;
                if (name.startsWith("blk.") && m != null) {
                    int l = Integer.parseInt(name.split("\\.")[1]);
                    String part = name.substring(name.indexOf('.', 4) + 1);
                    boolean down = part.equals("ffn_down.weight");
                    boolean wo = part.equals("attn_output.weight");
                    if (dropped[l] && (down || wo)) {
                        Arrays.fill(m, 0);
                    } else if (!dropped[l] && (down || wo)) {
                        int pl = 0;
                        for (int i = 0; i < l; i++) {
                            pl += dropped[i] ? 0 : 1;
                        }
                        String pb = "blk." + pl + ".";
                        String source = down ? "ffn_up.weight" : "attn_q.weight";
                        int block = down ? 1 : headDim;
                        float[] sub = Tensors.read(p, p.tensor(pb + source));
                        int[] kept = keptBlocks(Tensors.read(t, t.tensor("blk." + l + "." + source)), sub, dim, block);
                        float[] pw = Tensors.read(p, p.tensor(pb + part));
                        int pc = kept.length * block;
                        Arrays.fill(m, 0);
                        for (int o = 0; o < rows; o++) {
                            for (int i = 0; i < kept.length; i++) {
                                for (int k = 0; k < block; k++) {
                                    m[o * cols + kept[i] * block + k] = pw[o * pc + i * block + k];
                                }
                            }
                        }
                    }
                }
                if (m != null) {
                    Tensors.add(w, name, m, rows, cols, GgmlType.F32);
                } else {
                    w.tensor(name, ti.shape(), ti.type(), sink -> sink.put(t.tensorData(ti).asByteBuffer()));
                }
            }
            w.write(out);
        }
        return out;
    }

    private static Map<String, GgufValue> metadata(Path f) throws Exception {
        try (GgufFile g = GgufFile.open(f)) {
            return g.metadata().asMap();
        }
    }

    @Test
    void shouldEqualTheMaskedTeacherWhenFfnPrunedWithoutRepair() throws Exception {
        Path out = tmp.resolve("ffn25.gguf");
        PruneReport r = Pruner.prune(teacher, out, calibration, bos, options(0.25, 0, 0, false));
        assertThat(r.ffnWidth()).containsOnly(129);
        assertThat(metadata(out).get("llama.feed_forward_length")).isEqualTo(GgufValue.ofUint32(129));
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.tensor("blk.0.ffn_down.weight").shape()).containsExactly(129, 64);
            assertThat(g.tensor("blk.0.ffn_gate.weight").shape()).containsExactly(64, 129);
            assertThat(g.tensor("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F32);
        }
        assertSameLogits(logits(out), logits(masked(out, r.dropped())));
    }

    @Test
    void shouldEqualTheMaskedTeacherWithRepairedColumnsWhenRepaired() throws Exception {
        Path out = tmp.resolve("ffn25r.gguf");
        PruneReport r = Pruner.prune(teacher, out, calibration, bos, options(0.25, 0, 0, true));
        float[] pruned = logits(out);
        assertSameLogits(pruned, logits(masked(out, r.dropped())));
        // the repair changed the weights: the result is not the unrepaired model
        Path plain = tmp.resolve("ffn25.gguf");
        Pruner.prune(teacher, plain, calibration, bos, options(0.25, 0, 0, false));
        assertThat(pruned).isNotEqualTo(logits(plain));
    }

    @Test
    void shouldEqualTheMaskedTeacherWhenOneQueryHeadPerGroupIsPruned() throws Exception {
        Path out = tmp.resolve("heads.gguf");
        PruneReport r = Pruner.prune(teacher, out, calibration, bos, options(0, 0.5, 0, true));
        assertThat(r.heads()).containsOnly(4);
        Map<String, GgufValue> md = metadata(out);
        assertThat(md.get("llama.attention.head_count")).isEqualTo(GgufValue.ofUint32(4));
        assertThat(md.get("llama.attention.key_length")).isEqualTo(GgufValue.ofUint32(8));
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.tensor("blk.0.attn_q.weight").shape()).containsExactly(64, 32);
            assertThat(g.tensor("blk.0.attn_output.weight").shape()).containsExactly(32, 64);
        }
        assertSameLogits(logits(out), logits(masked(out, r.dropped())));
    }

    @Test
    void shouldEqualTheTeacherWithAnIdentityLayerWhenALayerIsDropped() throws Exception {
        Path out = tmp.resolve("drop1.gguf");
        PruneReport r = Pruner.prune(teacher, out, calibration, bos, options(0, 0, 1, false));
        int dropped = 0;
        for (boolean d : r.dropped()) {
            dropped += d ? 1 : 0;
        }
        assertThat(dropped).isEqualTo(1);
        assertThat(metadata(out).get("llama.block_count")).isEqualTo(GgufValue.ofUint32(4));
        assertSameLogits(logits(out), logits(masked(out, r.dropped())));
    }

    /** Σ over calibration tokens of ‖student layer output − teacher layer output‖², per layer. */
    private static double[] layerErrors(Path student, float[][] teacherOut) throws Exception {
        double[] err = new double[teacherOut.length];
        int[] row = new int[teacherOut.length];
        ActivationTap tap = new ActivationTap() {
            @Override
            public void layerOutput(int l, float[] x, int rows, int dim) {
                for (int i = 0; i < rows * dim; i++) {
                    double d = x[i] - teacherOut[l][row[l] * dim + i];
                    err[l] += d * d;
                }
                row[l] += rows;
            }
        };
        try (Model m = Model.load(student, LoadOptions.keepF32(true))) {
            Calibration.feed(m, List.of(calibration), 128, bos, tap);
        }
        return err;
    }

    @Test
    void shouldReproduceTheTeacherLayerOutputsBetterWhenRepaired() throws Exception {
        float[][] teacherOut = new float[5][];
        try (Model m = Model.load(teacher, LoadOptions.keepF32(true))) {
            Calibration c = Calibration.run(m, List.of(calibration), 128, bos, false, true);
            for (int l = 0; l < 5; l++) {
                teacherOut[l] = c.outputs(l);
            }
        }
        Path plain = tmp.resolve("plain.gguf");
        Path repaired = tmp.resolve("repaired.gguf");
        Pruner.prune(teacher, plain, calibration, bos, options(0.25, 0, 0, false));
        PruneReport r = Pruner.prune(teacher, repaired, calibration, bos, options(0.25, 0, 0, true));
        double[] before = layerErrors(plain, teacherOut);
        double[] after = layerErrors(repaired, teacherOut);
        for (int l = 0; l < 5; l++) {
            assertThat(after[l]).as("layer %d output error, repaired vs plain", l).isLessThan(before[l]);
            assertThat(r.ffnErrorAfter()[l]).isLessThan(r.ffnErrorBefore()[l]);
        }
    }

    private static PruneOptions attention(double ffn, boolean on) {
        return new PruneOptions(ffn, 0, 0, true, 1e-3, 1, Importance.Measure.RMS, 128, 0, 1, true, on);
    }

    private static float[] attnOutput(Path model, int l) throws Exception {
        try (GgufFile g = GgufFile.open(model)) {
            return Tensors.read(g, g.tensor("blk." + l + ".attn_output.weight"));
        }
    }

    @Test
    void shouldEqualTheMaskedTeacherWhenAttentionOutputsAreRefitted() throws Exception {
        Path out = tmp.resolve("ffn25ra.gguf");
        PruneReport r = Pruner.prune(teacher, out, calibration, bos, attention(0.25, true));
        // the masked teacher carries the file's attn_output, every head kept
        assertSameLogits(logits(out), logits(masked(out, r.dropped())));
        // layer 0's input is the teacher's, nothing to absorb: its attn_output is the teacher's, byte for byte
        assertThat(attnOutput(out, 0)).containsExactly(attnOutput(teacher, 0));
        assertThat(r.attnErrorBefore()[0]).isNaN();
        for (int l = 1; l < 5; l++) {
            assertThat(attnOutput(out, l)).as("layer %d attn_output", l).isNotEqualTo(attnOutput(teacher, l));
            assertThat(r.attnErrorAfter()[l]).as("layer %d", l).isLessThan(r.attnErrorBefore()[l]);
        }
        Path off = tmp.resolve("ffn25r.gguf");
        Pruner.prune(teacher, off, calibration, bos, attention(0.25, false));
        for (int l = 0; l < 5; l++) {
            assertThat(attnOutput(off, l)).containsExactly(attnOutput(teacher, l));
        }
    }

    @Test
    void shouldRejectAttentionRepairWhenTheModelHasAPostAttentionNorm() throws Exception {
        // the teacher with a unit post-attention norm in layer 1 (Gemma 2/3/4 have one in every layer)
        Path normed = tmp.resolve("normed.gguf");
        try (GgufFile t = GgufFile.open(teacher)) {
            GgufWriter w = new GgufWriter();
            w.putAll(t.metadata().asMap());
            for (TensorInfo ti : t.tensors().values()) {
                w.tensor(ti.name(), ti.shape(), ti.type(), sink -> sink.put(t.tensorData(ti).asByteBuffer()));
            }
            float[] ones = new float[64];
            Arrays.fill(ones, 1);
            w.tensor("blk.1.post_attention_norm.weight", new long[] {64}, GgmlType.F32, sink -> {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(ones);
                sink.put(b);
            });
            w.write(normed);
        }
        assertThatThrownBy(() -> Pruner.prune(normed, tmp.resolve("x.gguf"), calibration, bos, attention(0.25, true)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blk.1.post_attention_norm.weight");
    }

    /** Σ over calibration tokens of ‖student − teacher‖² of the residual after each layer's attention. */
    private static double[] residualErrors(Path student, float[][] teacherResidual) throws Exception {
        double[] err = new double[teacherResidual.length];
        int[] row = new int[teacherResidual.length];
        ActivationTap tap = new ActivationTap() {
            @Override
            public void attentionResidual(int l, float[] x, int rows, int dim) {
                for (int i = 0; i < rows * dim; i++) {
                    double d = x[i] - teacherResidual[l][row[l] * dim + i];
                    err[l] += d * d;
                }
                row[l] += rows;
            }
        };
        try (Model m = Model.load(student, LoadOptions.keepF32(true))) {
            Calibration.feed(m, List.of(calibration), 128, bos, tap);
        }
        return err;
    }

    @Test
    void shouldReproduceTheTeachersResidualAfterAttentionBetterWhenAttentionIsRefitted() throws Exception {
        float[][] teacherResidual = new float[5][];
        try (Model m = Model.load(teacher, LoadOptions.keepF32(true))) {
            Calibration c = Calibration.run(m, List.of(calibration), 128, bos, false, false, true);
            for (int l = 0; l < 5; l++) {
                teacherResidual[l] = c.attentionResiduals(l);
            }
        }
        Path on = tmp.resolve("on.gguf");
        Path off = tmp.resolve("off.gguf");
        Pruner.prune(teacher, on, calibration, bos, attention(0.25, true));
        Pruner.prune(teacher, off, calibration, bos, attention(0.25, false));
        double[] with = residualErrors(on, teacherResidual);
        double[] without = residualErrors(off, teacherResidual);
        // layer 0 is untouched either way; layer 1 sees the same student input in both runs, so its refit is the
        // least-squares optimum of exactly this error; later layers' inputs differ, but each absorbs the error
        assertThat(with[0]).isEqualTo(without[0]);
        for (int l = 1; l < 5; l++) {
            assertThat(with[l]).as("layer %d residual error after attention, refitted vs not", l)
                    .isLessThan(without[l]);
        }
    }

    @Test
    void shouldKeepNeuronsTheRefitCompensatesBetterWhenTheSurgeonChooses() throws Exception {
        PruneOptions rms = options(0.25, 0, 0, true);
        PruneOptions obs = new PruneOptions(0.25, 0, 0, true, 1e-3, 1, Importance.Measure.OBS, 128, 0, 1, true, false);
        Path byRms = tmp.resolve("rms.gguf");
        Path bySurgeon = tmp.resolve("obs.gguf");
        PruneReport r = Pruner.prune(teacher, byRms, calibration, bos, rms);
        PruneReport s = Pruner.prune(teacher, bySurgeon, calibration, bos, obs);
        assertThat(s.ffnWidth()).containsOnly(129);
        // the file holds the student-side choice: it still equals the masked teacher read back from it
        assertSameLogits(logits(bySurgeon), logits(masked(bySurgeon, s.dropped())));
        // layer 0 sees the teacher's own activations in both runs, so the two refits fit the same data: the
        // surgeon's greedy choice leaves less error than RMS's (later layers' inputs already differ)
        assertThat(s.ffnErrorAfter()[0]).isLessThan(r.ffnErrorAfter()[0]);
    }

    @Test
    void shouldWritePerLayerWidthsAsAnArrayWhenLayersDiffer() throws Exception {
        PrunePlan plan = PrunePlan.none(5);
        int[] widths = {172, 160, 128, 96, 64};
        for (int l = 1; l < 5; l++) {
            int[] kept = new int[widths[l]];
            for (int i = 0; i < kept.length; i++) {
                kept[i] = i * 172 / widths[l];
            }
            plan.keptNeurons()[l] = kept;
        }
        Path out = tmp.resolve("perlayer.gguf");
        try (GgufFile f = GgufFile.open(teacher); Model m = Model.load(teacher, LoadOptions.keepF32(true))) {
            PrunedWriter.write(f, m.config(), plan, out);
        }
        GgufValue ffn = metadata(out).get("llama.feed_forward_length");
        assertThat(ffn.value()).isInstanceOf(catena.shard.gguf.GgufArray.class);
        assertThat((int[]) ((catena.shard.gguf.GgufArray) ffn.value()).values()).containsExactly(widths);
        try (Model m = Model.load(out, LoadOptions.keepF32(true))) {
            for (int l = 0; l < 5; l++) {
                assertThat(m.config().layer(l).ffnDim()).isEqualTo(widths[l]);
            }
        }
        assertSameLogits(logits(out), logits(masked(out, new boolean[5])));
    }
}
