package catena.shard.model;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufFormatException;
import catena.shard.gguf.TensorInfo;
import catena.shard.kernel.MatMul;
import catena.shard.kernel.VectorOps;
import catena.shard.tensor.Matrix;
import catena.shard.tensor.Q8Matrix;
import catena.shard.tensor.WeightMemory;
import catena.shard.tensor.Weights;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.function.ToLongFunction;

/**
 * A loaded model, or a contiguous slice of its layers (a pipeline stage). Pure computation: no
 * threads of its own beyond the shared compute pool, no I/O after load. {@link #forward} calls on
 * one instance are serialized; different instances (stages) run concurrently.
 *
 * <p>The layer math follows GEMMA_SPEC.md: one method per step of the layer.
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final Arena arena;
    private final ModelConfig config;
    private final int from;
    private final int to;
    private final Matrix tokenEmbd;
    private final float[] outputNorm;
    private final Matrix output;
    private final LayerWeights[] layers;
    private final Rope[] ropes;
    private final Scratch s;
    /** Gemma 4 per-layer embeddings of this slice's layers; null without PLE. */
    private final PerLayerInputs ple;
    /** Gemma 4 routed-expert buffers; null for dense models. */
    private final MoeFfn moe;
    private final Attention attention;
    private final KvPool kvPool;
    /** Bytes of weights this slice holds in memory (mapped or copied). */
    private final long weightBytes;
    /** Per model layer, the Hadamard block of a rotated (quantized) cache's keys, 0 = not rotated. */
    private final int[] kvRotation;
    private final GatedActivation glu;
    /** Per-step timing for {@code bench --profile}; null (off) unless set. */
    private StepProfile profile;
    /** Calibration observer ({@link #tap}); null (off) unless set. */
    private ActivationTap tap;

    private Model(GgufFile file, Arena arena, ModelConfig config, int from, int to, Matrix tokenEmbd,
                  float[] outputNorm, Matrix output, LayerWeights[] layers, float[] ropeFreqs, PerLayerInputs ple,
                  KvType kvType, long kvMemoryBytes, long weightBytes) {
        this.weightBytes = weightBytes;
        this.file = file;
        this.arena = arena;
        this.config = config;
        this.from = from;
        this.to = to;
        this.tokenEmbd = tokenEmbd;
        this.outputNorm = outputNorm;
        this.output = output;
        this.layers = layers;
        this.ropes = new Rope[to - from];
        // one Rope per distinct configuration, so that its memo of recent angles serves every layer
        java.util.Map<String, Rope> distinct = new java.util.HashMap<>();
        for (int l = from; l < to; l++) {
            LayerSpec ls = config.layer(l);
            float[] factors = ropeFactors(config, ls, ropeFreqs);
            String key = ls.ropeDims() + "/" + ls.ropeBase() + "/" + ls.ropeScale() + "/" + java.util.Arrays.toString(factors);
            ropes[l - from] = distinct.computeIfAbsent(key,
                    k -> new Rope(ls.ropeDims(), ls.ropeBase(), ls.ropeScale(), config.neoxRope(), factors));
        }
        this.s = new Scratch(config, from, to);
        this.ple = ple;
        this.moe = config.experts() > 0 ? new MoeFfn(config.dim(), config.eps()) : null;
        int owners = 0;
        for (int l = from; l < to; l++) {
            if (config.layer(l).kvDim() > 0 && config.ownsKv(l)) {
                kvType.requireFits(l, config.layer(l).headDim());
                owners++;
            }
        }
        int[] kvDims = new int[owners];
        for (int l = from, i = 0; l < to; l++) {
            if (config.layer(l).kvDim() > 0 && config.ownsKv(l)) {
                kvDims[i++] = config.layer(l).kvDim();
            }
        }
        this.kvPool = new KvPool(kvType, kvDims, kvMemoryBytes);
        this.kvRotation = KvRotation.keyBlocks(config, kvType);
        this.attention = new Attention(config, kvType);
        this.glu = new GatedActivation(config.gelu());
    }

    /**
     * Gemma 4 global layers rotate only part of each head ("proportional" RoPE): llama.cpp divides
     * the pair frequencies by {@code rope_freqs} (1 for rotated pairs, 1e30 for the rest). Files
     * without that tensor get the model family's 25 % rule (HF partial_rotary_factor 0.25).
     */
    private static float[] ropeFactors(ModelConfig config, LayerSpec ls, float[] ropeFreqs) {
        if (config.arch() != Arch.GEMMA4 || ls.sliding()) {
            return null;
        }
        if (ropeFreqs == null) {
            return Rope.partialFactors(ls.ropeDims(), 0.25);
        }
        if (ropeFreqs.length != ls.ropeDims() / 2) {
            throw new GgufFormatException("tensor 'rope_freqs.weight' has " + ropeFreqs.length + " elements, the "
                    + "global layers rotate " + ls.ropeDims() / 2 + " pairs");
        }
        return ropeFreqs;
    }

    /** Opens and maps the GGUF, validating it; refuses unknown architectures with a clear message. */
    public static Model load(Path path, LoadOptions options) throws IOException {
        GgufFile file = GgufFile.open(path);
        Arena arena = Arena.ofShared();
        try {
            return load(file, arena, options);
        } catch (RuntimeException e) {
            arena.close();
            file.close();
            if (e instanceof GgufFormatException g && !g.getMessage().startsWith(path.getFileName().toString())) {
                throw new GgufFormatException(path.getFileName() + ": " + g.getMessage());
            }
            throw e;
        }
    }

    private static Model load(GgufFile file, Arena arena, LoadOptions options) {
        ModelConfig config = ModelConfig.from(file);
        int from = options.fromLayer();
        int to = options.toLayer() == LoadOptions.ALL ? config.layerCount() : options.toLayer();
        if (from < 0 || to > config.layerCount() || from >= to) {
            throw new IllegalArgumentException("layer range [" + from + ", " + to + ") is not within the model's "
                    + config.layerCount() + " layers");
        }
        requireStageBoundary(config, from);
        requireStageBoundary(config, to);
        long resident = residentBytes(file, config, from, to, options.widenQ4());
        WeightMemory.requireAvailable(resident, "layers [" + from + ", " + to + ") of " + file.path().getFileName());
        Weights w = new Weights(file, options.keepF32(), options.widenQ4(), arena);
        boolean head = to == config.layerCount();
        Matrix output = null;
        float[] outputNorm = null;
        if (head) {
            outputNorm = w.vector("output_norm.weight");
            // Gemma 1 always ties the head to the embedding; later ones use `output` when present.
            output = config.arch() != Arch.GEMMA && w.has("output.weight") ? w.matrix("output.weight") : null;
        }
        // Per-layer embeddings project the token embedding on every stage, not just the first.
        boolean needsEmbd = from == 0 || (head && output == null) || config.pleDim() > 0;
        Matrix tokenEmbd = needsEmbd ? w.matrix("token_embd.weight") : null;
        if (head && output == null) {
            output = tokenEmbd;
        }
        LayerWeights[] layers = new LayerWeights[to - from];
        for (int l = from; l < to; l++) {
            layers[l - from] = LayerWeights.load(w, config, l);
            check(config, l, layers[l - from]);
        }
        if (output != null) {
            requireShape("output", output, config.vocabSize(), config.dim());
        }
        float[] ropeFreqs = config.arch() == Arch.GEMMA4 && w.has("rope_freqs.weight")
                ? w.vector("rope_freqs.weight") : null;
        PerLayerInputs ple = config.pleDim() > 0 ? new PerLayerInputs(w, config, tokenEmbd, from, to) : null;
        Model model = new Model(file, arena, config, from, to, tokenEmbd, outputNorm, output, layers, ropeFreqs, ple,
                options.kvType(), kvBudget(options, resident), resident);
        // The repacked copies are what the kernels read; the file's pages touched while copying
        // would otherwise stay mapped and count twice in the process's RSS. Dropping them is safe:
        // anything still read from the file (F32 kept in place, routers) faults back in from it.
        if (file.segment().isMapped()) {
            file.segment().unload();
        }
        return model;
    }

    /**
     * Gemma 4 KV-shared layers read their donor layer's cache, so a pipeline stage may not start
     * between a donor and its sharers (see {@link ModelConfig#stageMayStartAt}; planners can ask
     * {@link #stageBoundariesAllowed}).
     */
    private static void requireStageBoundary(ModelConfig c, int at) {
        if (!c.stageMayStartAt(at)) {
            StringBuilder legal = new StringBuilder();
            for (int i = 1; i < c.layerCount(); i++) {
                if (c.stageMayStartAt(i)) {
                    legal.append(legal.isEmpty() ? "" : ", ").append(i);
                }
            }
            throw new IllegalArgumentException("a stage boundary at layer " + at + " separates KV-shared layers "
                    + "from the layer whose cache they read (attention.shared_kv_layers); stages of this model may "
                    + "start only at layers " + (legal.isEmpty() ? "0 (no split possible)" : "0, " + legal));
        }
    }

    /**
     * For each {@code c} in [0, layerCount]: whether a pipeline stage may start (and the previous one
     * end) at layer {@code c}. Only Gemma 4 models with KV sharing restrict this.
     */
    public static boolean[] stageBoundariesAllowed(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            ModelConfig c = ModelConfig.from(f);
            boolean[] ok = new boolean[c.layerCount() + 1];
            for (int i = 0; i <= c.layerCount(); i++) {
                ok[i] = c.stageMayStartAt(i);
            }
            return ok;
        }
    }

    private static void check(ModelConfig c, int l, LayerWeights w) {
        LayerSpec s = c.layer(l);
        String b = "blk." + l + ".";
        requireShape(b + "attn_q", w.attnQ(), s.qDim(), c.dim());
        if (c.ownsKv(l)) {
            requireShape(b + "attn_k", w.attnK(), s.kvDim(), c.dim());
            if (w.attnV() != null) {
                requireShape(b + "attn_v", w.attnV(), s.kvDim(), c.dim());
            }
        }
        requireShape(b + "attn_output", w.attnOutput(), c.dim(), s.qDim());
        requireShape(b + "ffn_gate", w.ffnGate(), s.ffnDim(), c.dim());
        requireShape(b + "ffn_up", w.ffnUp(), s.ffnDim(), c.dim());
        requireShape(b + "ffn_down", w.ffnDown(), c.dim(), s.ffnDim());
        requireLength(b + "attn_norm", w.attnNorm(), c.dim());
        requireLength(b + "ffn_norm", w.ffnNorm(), c.dim());
        if (w.attnQNorm() != null) {
            requireLength(b + "attn_q_norm", w.attnQNorm(), s.headDim());
        }
        if (w.attnKNorm() != null) {
            requireLength(b + "attn_k_norm", w.attnKNorm(), s.headDim());
        }
        if (c.arch() == Arch.GEMMA4 && (w.attnQNorm() == null || (c.ownsKv(l) && w.attnKNorm() == null)
                || w.postAttentionNorm() == null || w.postFfwNorm() == null)) {
            throw new GgufFormatException("layer " + l + " lacks a Gemma 4 norm (attn_q_norm, attn_k_norm, "
                    + "post_attention_norm or post_ffw_norm)");
        }
        if (w.ple() != null) {
            requireShape(b + "inp_gate", w.ple().inpGate(), c.pleDim(), c.dim());
            requireShape(b + "proj", w.ple().proj(), c.dim(), c.pleDim());
            requireLength(b + "post_norm", w.ple().postNorm(), c.dim());
        }
    }

    private static void requireShape(String name, Matrix m, int rows, int cols) {
        if (m.rows() != rows || m.cols() != cols) {
            throw new GgufFormatException("tensor '" + name + "' has shape {" + m.cols() + ", " + m.rows()
                    + "}, the metadata implies {" + cols + ", " + rows + "}");
        }
    }

    private static void requireLength(String name, float[] v, int n) {
        if (v.length != n) {
            throw new GgufFormatException("tensor '" + name + "' has " + v.length + " elements, expected " + n);
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The file's metadata (tokenizer, chat template), without opening it a second time. */
    public catena.shard.gguf.GgufMetadata metadata() {
        return file.metadata();
    }

    /** First layer held (inclusive). */
    public int fromLayer() {
        return from;
    }

    /** Last layer held (exclusive). */
    public int toLayer() {
        return to;
    }

    /** Whether this slice holds the token embedding (it starts at layer 0). */
    public boolean hasEmbedding() {
        return from == 0;
    }

    /** Whether this slice holds the final norm and output head (it ends at the last layer). */
    public boolean hasHead() {
        return to == config.layerCount();
    }

    /** A fresh KV cache for one sequence, covering this slice's layers. */
    public KvCache newCache() {
        return new KvCache(config, from, to, kvPool);
    }

    /** The KV pool's byte budget: as given, or for auto what the memory limit leaves after the weights. */
    private static long kvBudget(LoadOptions options, long weightBytes) {
        return options.kvMemoryBytes() == KvMemory.AUTO ? KvMemory.auto(weightBytes, options.kvShare())
                : options.kvMemoryBytes();
    }

    /** Bytes of weights this slice holds in memory. */
    public long weightBytes() {
        return weightBytes;
    }

    /** This slice's KV page pool (its type, budget and usage). */
    public KvPool kvPool() {
        return kvPool;
    }

    /**
     * Weight bytes one decoded token reads in this slice (layers, plus the head on the last stage),
     * counted in the model's format (Q8_0: 34 bytes per 32 weights, as a GGUF reader would read):
     * for MoE layers only the router and the top-k experts' share, not every expert.
     */
    public long bytesPerToken() {
        return bytesPerToken(Matrix::byteSize);
    }

    /** Like {@link #bytesPerToken}, in the bytes held in memory (Q8_0 with f32 scales: 36 per 32 weights). */
    public long residentBytesPerToken() {
        return bytesPerToken(Matrix::residentBytes);
    }

    private long bytesPerToken(ToLongFunction<Matrix> size) {
        long b = ple == null ? 0 : ple.bytes(size);
        for (LayerWeights lw : layers) {
            b += lw.bytes(size);
        }
        return hasHead() ? b + size.applyAsLong(output) : b;
    }

    /** Embeds {@code n} tokens into {@code x[0 .. n*dim)} (stage 0 only). */
    public void embed(int[] tokens, int off, int n, float[] x) {
        if (!hasEmbedding()) {
            throw new IllegalStateException("this slice starts at layer " + from + " and holds no embedding");
        }
        int dim = config.dim();
        for (int i = 0; i < n; i++) {
            int t = tokens[off + i];
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
            tokenEmbd.row(t, x, i * dim);
            for (int k = 0; k < dim; k++) {
                x[i * dim + k] *= config.embedScale();
            }
        }
    }

    /**
     * Runs this slice's layers over every row of {@code batch}, in place on {@code x} ([rows][dim]),
     * appending each row's keys and values to its sequence's cache. Gemma 4 models with per-layer
     * embeddings need the rows' token ids on every stage ({@link Batch#add(KvCache, int[], int, int)}).
     */
    public synchronized void forward(Batch batch, float[] x) {
        if (profile != null) {
            profile.start();
        }
        int rows = batch.rows();
        s.ensure(rows);
        kvPool.settle(batch);
        for (int i = 0, r = 0; i < batch.size(); i++) {
            KvCache cache = batch.cache(i);
            cache.reserve(batch.count(i));
            for (int j = 0; j < batch.count(i); j++, r++) {
                s.pos[r] = cache.length() + j;
                s.seq[r] = i;
            }
        }
        if (ple != null) {
            ple.compute(batch, rows);
            mark(StepProfile.Phase.PER_LAYER_INPUT);
        }
        for (int l = from; l < to; l++) {
            layer(l, batch, x, rows);
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.cache(i).advance(batch.count(i));
        }
    }

    private void layer(int l, Batch batch, float[] x, int rows) {
        LayerWeights w = layers[l - from];
        LayerSpec ls = config.layer(l);
        boolean ownsKv = config.ownsKv(l);
        int dim = config.dim();
        if (tap != null) {
            tap.layerInput(l, x, rows, dim);
        }
        rmsNorm(x, s.xb, rows, dim, w.attnNorm());
        mark(StepProfile.Phase.NORMS);
        project(w, rows, ownsKv);
        mark(StepProfile.Phase.QKV);
        normalizeHeads(w, ls, rows, ownsKv);
        rope(l, ls, rows, ownsKv);
        if (kvRotation[l] > 0) {
            // the cache holds rotated keys and values (llama.cpp's quantized-cache rotation)
            KvRotation.rotate(s.q, 0, rows * ls.qDim(), kvRotation[l]);
            if (ownsKv) {
                KvRotation.rotate(s.k, 0, rows * ls.kvDim(), kvRotation[l]);
                KvRotation.rotate(s.v, 0, rows * ls.kvDim(), KvRotation.V_BLOCK);
            }
        }
        mark(StepProfile.Phase.HEAD_NORM_ROPE);
        if (ownsKv) {
            storeKv(l, ls, batch, rows);
            mark(StepProfile.Phase.KV_STORE);
        }
        // a KV-shared layer reads its donor's cache (KvCache maps the layer), with its own window
        attention.run(l, ls, batch, rows, s.pos, s.seq, s.q, s.att);
        if (kvRotation[l] > 0) {
            KvRotation.rotate(s.att, 0, rows * ls.qDim(), KvRotation.V_BLOCK);
        }
        mark(StepProfile.Phase.ATTENTION);
        if (tap != null) {
            tap.attentionHeads(l, s.att, rows, ls.qDim());
        }
        MatMul.matmul(w.attnOutput(), s.att, s.xb, rows);
        mark(StepProfile.Phase.ATTN_OUTPUT);
        if (w.postAttentionNorm() != null) {
            rmsNorm(s.xb, s.xb, rows, dim, w.postAttentionNorm());
        }
        add(x, s.xb, rows * dim);
        if (tap != null) {
            tap.attentionResidual(l, x, rows, dim);
        }
        if (w.moe() == null) {
            rmsNorm(x, s.xb, rows, dim, w.ffnNorm());
            mark(StepProfile.Phase.NORMS);
            ffn(l, w, ls, rows);
        } else {
            mark(StepProfile.Phase.NORMS);
            sharedAndRoutedFfn(l, w, ls, x, rows);
        }
        if (w.postFfwNorm() != null) {
            rmsNorm(s.xb, s.xb, rows, dim, w.postFfwNorm());
        }
        add(x, s.xb, rows * dim);
        mark(StepProfile.Phase.NORMS);
        if (w.ple() != null) {
            perLayerInput(l, w.ple(), x, rows);
            mark(StepProfile.Phase.PER_LAYER_INPUT);
        }
        if (w.outputScale() != 1f) {
            for (int i = 0; i < rows * dim; i++) {
                x[i] *= w.outputScale();
            }
            mark(StepProfile.Phase.NORMS);
        }
        if (tap != null) {
            tap.layerOutput(l, x, rows, dim);
        }
    }

    private void mark(StepProfile.Phase p) {
        if (profile != null) {
            profile.mark(p);
        }
    }

    /** Sets (or with null removes) the observer of intermediate activations, for calibration. */
    public synchronized void tap(ActivationTap t) {
        this.tap = t;
    }

    /** Turns per-step timing on ({@code bench --profile}) or off (null). */
    public synchronized void profile(StepProfile p) {
        this.profile = p;
    }

    /** q, k, v projections of the normed rows in {@code s.xb}; Gemma 4 reuses K as V when attn_v is absent. */
    private void project(LayerWeights w, int rows, boolean ownsKv) {
        if (!ownsKv) {
            MatMul.matmul(w.attnQ(), s.xb, s.q, rows);
        } else if (w.attnV() != null) {
            MatMul.matmul3(w.attnQ(), s.q, w.attnK(), s.k, w.attnV(), s.v, s.xb, rows);
        } else {
            MatMul.matmul2(w.attnQ(), s.q, w.attnK(), s.k, s.xb, rows);
            // K=V: V is the raw K projection, taken before the K norm and RoPE.
            System.arraycopy(s.k, 0, s.v, 0, rows * w.attnK().rows());
        }
    }

    /** Per-head q/k norms (Gemma 3/4) and Gemma 4's unweighted V norm. */
    private void normalizeHeads(LayerWeights w, LayerSpec ls, int rows, boolean ownsKv) {
        if (w.attnQNorm() != null) {
            rmsNorm(s.q, s.q, rows * ls.heads(), ls.headDim(), w.attnQNorm());
        }
        if (ownsKv && w.attnKNorm() != null) {
            rmsNorm(s.k, s.k, rows * ls.kvHeads(), ls.headDim(), w.attnKNorm());
        }
        if (ownsKv && config.arch() == Arch.GEMMA4) {
            RmsNorm.apply(s.v, s.v, rows * ls.kvHeads(), ls.headDim(), null, config.eps());
        }
    }

    private void rope(int l, LayerSpec ls, int rows, boolean ownsKv) {
        Rope rope = ropes[l - from];
        for (int r = 0; r < rows; r++) {
            rope.angles(s.pos[r], s.cos, s.sin);
            rope.rotate(s.q, r * ls.qDim(), ls.heads(), ls.headDim(), s.cos, s.sin);
            if (ownsKv) {
                rope.rotate(s.k, r * ls.kvDim(), ls.kvHeads(), ls.headDim(), s.cos, s.sin);
            }
        }
    }

    private void storeKv(int l, LayerSpec ls, Batch batch, int rows) {
        int kvDim = ls.kvDim();
        for (int r = 0; r < rows; r++) {
            batch.cache(s.seq[r]).store(l, s.pos[r], s.k, r * kvDim, s.v, r * kvDim);
        }
    }

    /** Dense GeGLU (or SwiGLU for llama) of {@code s.xb} into {@code s.xb}. */
    private void ffn(int l, LayerWeights w, LayerSpec ls, int rows) {
        MatMul.matmul2(w.ffnGate(), s.hb, w.ffnUp(), s.hb2, s.xb, rows);
        mark(StepProfile.Phase.FFN_GATE_UP);
        glu.apply(s.hb, s.hb2, rows * ls.ffnDim());
        mark(StepProfile.Phase.FFN_ACTIVATION);
        if (tap != null && w.moe() == null) {
            tap.ffnHidden(l, s.hb, rows, ls.ffnDim());
        }
        MatMul.matmul(w.ffnDown(), s.hb, s.xb, rows);
        mark(StepProfile.Phase.FFN_DOWN);
    }

    /**
     * Gemma 4 MoE layer: {@code s.xb = norm₁(GeGLU(ffn_norm(x₁))) + norm₂(experts(pre_ffw_norm_2(x₁)))},
     * the router reading the residual {@code x₁} itself.
     */
    private void sharedAndRoutedFfn(int l, LayerWeights w, LayerSpec ls, float[] x, int rows) {
        MoeWeights m = w.moe();
        int dim = config.dim();
        rmsNorm(x, s.xb, rows, dim, w.ffnNorm());
        ffn(l, w, ls, rows);
        rmsNorm(s.xb, s.xb, rows, dim, m.postNorm1());
        rmsNorm(x, s.xb2, rows, dim, m.preNorm2());
        mark(StepProfile.Phase.NORMS);
        moe.apply(m, x, s.xb2, rows);
        mark(StepProfile.Phase.EXPERTS);
        rmsNorm(moe.out, moe.out, rows, dim, m.postNorm2());
        add(s.xb, moe.out, rows * dim);
    }

    /** Gemma 4 PLE step: {@code x += post_norm(proj · (gelu(inp_gate · x) ⊙ ple[l]))}. */
    private void perLayerInput(int l, PleWeights p, float[] x, int rows) {
        int width = config.pleDim();
        int dim = config.dim();
        MatMul.matmul(p.inpGate(), x, s.pleGate, rows);
        for (int r = 0; r < rows; r++) {
            int in = ple.offset(r, l);
            for (int i = 0; i < width; i++) {
                s.pleGate[r * width + i] = Gelu.apply(s.pleGate[r * width + i]) * ple.values[in + i];
            }
        }
        MatMul.matmul(p.proj(), s.pleGate, s.xb, rows);
        rmsNorm(s.xb, s.xb, rows, dim, p.postNorm());
        add(x, s.xb, rows * dim);
    }

    /** Final norm and output head on row {@code row} of {@code x}, into {@code logits[0 .. vocab)} (last stage only). */
    public synchronized void logits(float[] x, int row, float[] logits) {
        s.rowIndex[0] = row;
        logits(x, s.rowIndex, 1, logits);
    }

    /**
     * Final norm and output head on {@code count} rows of {@code x} (indices in {@code rows}), into
     * {@code logits} as [count][vocab]. One pass over the head serves every row: with a 262k-token
     * vocabulary the head is a third of a small model's bytes, so a batch of sequences must not
     * read it once per sequence.
     */
    public synchronized void logits(float[] x, int[] rows, int count, float[] logits) {
        if (!hasHead()) {
            throw new IllegalStateException("this slice ends at layer " + to + " and holds no output head");
        }
        if (profile != null) {
            profile.start();
        }
        int dim = config.dim();
        int vocab = config.vocabSize();
        if (s.head.length < count * dim) {
            s.head = new float[count * dim];
        }
        for (int i = 0; i < count; i++) {
            System.arraycopy(x, rows[i] * dim, s.head, i * dim, dim);
        }
        rmsNorm(s.head, s.head, count, dim, outputNorm);
        MatMul.matmul(output, s.head, 0, logits, 0, count);
        float cap = config.finalSoftcap();
        if (cap > 0f) {
            for (int i = 0; i < count * vocab; i++) {
                logits[i] = cap * (float) StrictMath.tanh(logits[i] / cap);
            }
        }
        mark(StepProfile.Phase.OUTPUT_HEAD);
    }

    /** {@code out[r] = x̂[r] ⊙ w} for {@code n} vectors of length {@code len}; in place when out == x. */
    private void rmsNorm(float[] x, float[] out, int n, int len, float[] w) {
        RmsNorm.apply(x, out, n, len, w, config.eps());
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }

    /**
     * Weight bytes of each layer as a serving stage holds them (Q8_0 unless kept F32; Q4_0 widened
     * as {@link LoadOptions#SERVING_WIDENS_Q4} says): what stages are balanced and sized by.
     */
    public static long[] layerBytes(Path path) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            return layerBytes(f, ModelConfig.from(f), LoadOptions.SERVING_WIDENS_Q4);
        }
    }

    private static long[] layerBytes(GgufFile f, ModelConfig c, boolean widenQ4) {
        long[] bytes = new long[c.layerCount()];
        for (TensorInfo t : f.tensors().values()) {
            String n = t.name();
            if (n.startsWith("blk.")) {
                int l = Integer.parseInt(n.substring(4, n.indexOf('.', 4)));
                if (l >= 0 && l < bytes.length) {
                    bytes[l] += heldBytes(t, widenQ4);
                }
            } else if (n.equals("output.weight") || (n.equals("token_embd.weight") && !tiedHead(f))) {
                bytes[bytes.length - 1] += heldBytes(t, widenQ4);
            }
        }
        return bytes;
    }

    private static boolean tiedHead(GgufFile f) {
        return !f.tensors().containsKey("output.weight");
    }

    /**
     * Bytes the slice [from, to) copies into memory at load (its layers, the head on the last
     * stage, the token embedding where the slice embeds), for the memory check: an estimate.
     */
    private static long residentBytes(GgufFile f, ModelConfig c, int from, int to, boolean widenQ4) {
        long[] layers = layerBytes(f, c, widenQ4);
        long b = 0;
        for (int l = from; l < to; l++) {
            b += layers[l];
        }
        boolean embedCounted = to == c.layerCount() && tiedHead(f);
        TensorInfo embd = f.tensors().get("token_embd.weight");
        if (embd != null && !embedCounted && (from == 0 || c.pleDim() > 0)) {
            b += heldBytes(embd, widenQ4);
        }
        return b;
    }

    private static long heldBytes(TensorInfo t, boolean widenQ4) {
        // MoE routers are kept exact (MoeWeights): F32 unless the file already has them in Q8_0.
        boolean exact = t.name().endsWith("ffn_gate_inp.weight") && t.type() != GgmlType.Q8_0;
        if (t.shape().length >= 2 && t.cols() % 32 == 0 && !exact && t.type() == GgmlType.Q4_0 && !widenQ4) {
            // Q4Matrix: 16 bytes of nibbles and an f32 scale per block
            return t.elementCount() / 32 * (16 + Q8Matrix.SCALE_BYTES);
        }
        if (t.shape().length >= 2 && t.cols() % 32 == 0 && !exact) {
            // Q8Matrix: 32 int8 quants and an f32 scale per block
            return t.elementCount() / 32 * (32 + Q8Matrix.SCALE_BYTES);
        }
        return t.elementCount() * 4;
    }

    @Override
    public void close() {
        kvPool.close();
        arena.close();
        file.close();
    }
}
