package catena.shard.model;

import catena.shard.gguf.GgufArray;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufFormatException;
import catena.shard.gguf.GgufMetadata;
import catena.shard.gguf.TensorInfo;

/**
 * Hyper-parameters read from the GGUF metadata (never from tables of known models), resolved to
 * what the forward pass needs: one {@link LayerSpec} per layer plus the model-wide settings.
 *
 * @param pleDim      Gemma 4 per-layer embedding width P (0: none)
 * @param experts     routed experts per MoE layer (0: dense model)
 * @param expertsUsed experts each token runs through (top-k)
 * @param expertFfn   hidden width of one expert
 */
public record ModelConfig(Arch arch, String name, int dim, int layerCount, int vocabSize, int contextLength,
                          float eps, LayerSpec[] layers, float embedScale, float queryScale, float attnSoftcap,
                          float finalSoftcap, boolean neoxRope, boolean gelu, int pleDim, int experts,
                          int expertsUsed, int expertFfn) {

    public LayerSpec layer(int l) {
        return layers[l];
    }

    public static ModelConfig from(GgufFile file) {
        GgufMetadata md = file.metadata();
        Arch arch = Arch.of(md.getString("general.architecture"));
        String p = arch.key + ".";
        int dim = md.getInt(p + "embedding_length", 1);
        int n = md.getInt(p + "block_count", 1);
        TensorInfo embd = file.tensors().get("token_embd.weight");
        if (embd == null) {
            throw new GgufFormatException("missing tensor 'token_embd.weight'");
        }
        if (embd.cols() != dim) {
            throw new GgufFormatException("token_embd.weight is " + embd.cols() + " wide but " + p
                    + "embedding_length is " + dim);
        }
        int vocab = Math.toIntExact(embd.rows());
        int ctx = md.getInt(p + "context_length", 1, 2048);
        float eps = md.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-6f);
        int[] heads = perLayer(md, p + "attention.head_count", n, 1, -1);
        int[] kvHeads = perLayer(md, p + "attention.head_count_kv", n, 1, -2);
        for (int l = 0; l < n; l++) {
            if (kvHeads[l] == -2) {
                kvHeads[l] = heads[l];
            }
            if (heads[l] % kvHeads[l] != 0) {
                throw new GgufFormatException("layer " + l + ": head_count " + heads[l]
                        + " is not a multiple of head_count_kv " + kvHeads[l]);
            }
        }
        int[] ffn = perLayer(md, p + "feed_forward_length", n, 1, -1);
        int headDim = md.has(p + "attention.key_length") ? md.getInt(p + "attention.key_length", 1) : dim / heads[0];
        int ropeDims = md.getInt(p + "rope.dimension_count", 2, headDim);
        float base = md.getFloat(p + "rope.freq_base", 10000f);
        float scale = 1f;
        if (md.has(p + "rope.scaling.factor") && !"none".equals(md.getString(p + "rope.scaling.type", "linear"))) {
            float f = md.getFloat(p + "rope.scaling.factor");
            if (f > 0) {
                scale = 1f / f;
            }
        }
        boolean[] sliding = slidingPattern(md, arch, p, n);
        int window = md.getInt(p + "attention.sliding_window", 0, arch == Arch.GEMMA2 ? 4096 : 0);
        if (window == 0) {
            sliding = new boolean[n];
        }
        // llama.cpp uses a fixed local base of 10000 for gemma3 (it ignores rope.freq_base_swa there).
        float baseSwa = arch == Arch.GEMMA3 ? 10000f : md.getFloat(p + "rope.freq_base_swa", base);
        // Gemma 4 gives local (sliding) layers their own head size and rotated width.
        int headDimSwa = headDim;
        int ropeDimsSwa = ropeDims;
        if (arch == Arch.GEMMA4) {
            requireSame(md, p + "attention.key_length", p + "attention.value_length");
            requireSame(md, p + "attention.key_length_swa", p + "attention.value_length_swa");
            headDimSwa = md.getInt(p + "attention.key_length_swa", 1, headDim);
            ropeDimsSwa = md.getInt(p + "rope.dimension_count_swa", 2, headDimSwa);
        }
        int[] kvSource = kvSources(md, p, n, sliding);
        LayerSpec[] layers = new LayerSpec[n];
        for (int l = 0; l < n; l++) {
            boolean local = sliding[l];
            layers[l] = new LayerSpec(heads[l], kvHeads[l], local ? headDimSwa : headDim, ffn[l], local, window,
                    local ? baseSwa : base, local ? 1f : scale, local ? ropeDimsSwa : ropeDims, kvSource[l]);
        }
        for (int l = 0; l < n; l++) {
            LayerSpec s = layers[l];
            LayerSpec d = layers[s.kvSource()];
            if (s.headDim() != d.headDim() || s.kvHeads() != d.kvHeads() || s.sliding() != d.sliding()) {
                throw new GgufFormatException("layer " + l + " shares the KV cache of layer " + s.kvSource()
                        + " (attention.shared_kv_layers) but their attention geometry differs (head dim "
                        + s.headDim() + " vs " + d.headDim() + ", kv heads " + s.kvHeads() + " vs " + d.kvHeads()
                        + ", sliding " + s.sliding() + " vs " + d.sliding() + ")");
            }
        }
        int pleDim = md.getInt(p + "embedding_length_per_layer_input", 0, 0);
        int experts = md.getInt(p + "expert_count", 0, 0);
        int expertsUsed = md.getInt(p + "expert_used_count", 0, 0);
        int expertFfn = md.getInt(p + "expert_feed_forward_length", 0, 0);
        if (experts > 0 && (expertsUsed < 1 || expertsUsed > experts || expertFfn < 1)) {
            throw new GgufFormatException(p + "expert_used_count (" + expertsUsed + ") must be within [1, "
                    + experts + "] and " + p + "expert_feed_forward_length (" + expertFfn + ") positive");
        }
        float embedScale = arch.isGemma() ? (float) Math.sqrt(dim) : 1f;
        // Gemma 4 RMS-normalizes q and k per head and scales scores by 1.0 (llama.cpp f_attention_scale).
        float queryScale = arch == Arch.GEMMA4 ? 1f
                : (float) (1.0 / Math.sqrt(queryPreAttnScalar(arch, dim, heads[0], headDim, n)));
        float attnCap = arch == Arch.GEMMA2 ? md.getFloat(p + "attn_logit_softcapping", 50f) : 0f;
        float finalCap = switch (arch) {
            case GEMMA2 -> md.getFloat(p + "final_logit_softcapping", 30f);
            case GEMMA3, GEMMA4 -> md.getFloat(p + "final_logit_softcapping", 0f);
            default -> 0f;
        };
        return new ModelConfig(arch, md.getString("general.name", arch.key), dim, n, vocab, ctx, eps, layers,
                embedScale, queryScale, attnCap, finalCap, arch.isGemma(), arch.isGemma(), pleDim, experts,
                expertsUsed, expertFfn);
    }

    /** Whether layer {@code l} computes and stores its own keys and values (false for KV-shared layers). */
    public boolean ownsKv(int l) {
        return layers[l].kvSource() == l;
    }

    /**
     * Whether a pipeline stage may start at layer {@code c} (0 and the layer count are always
     * allowed). A Gemma 4 KV-shared layer reads its donor's cache of the same sequence, so a stage
     * boundary must not fall between a donor and any layer sharing it.
     */
    public boolean stageMayStartAt(int c) {
        if (c <= 0 || c >= layerCount()) {
            return c == 0 || c == layerCount();
        }
        for (int l = c; l < layerCount(); l++) {
            if (layers[l].kvSource() < c) {
                return false;
            }
        }
        return true;
    }

    /**
     * llama.cpp's Gemma 3n/4 rule: with {@code s = attention.shared_kv_layers} the last s layers
     * store no K/V; each reads layer {@code L-s-2} if it is local, {@code L-s-1} if global. (HF picks
     * the last non-shared layer of the same type: identical for the released models.)
     */
    private static int[] kvSources(GgufMetadata md, String p, int n, boolean[] sliding) {
        int shared = md.getInt(p + "attention.shared_kv_layers", 0, 0);
        int start = n - shared;
        if (shared < 0 || shared >= n) {
            throw new GgufFormatException(p + "attention.shared_kv_layers = " + shared + " must be within [0, " + n
                    + ")");
        }
        int[] src = new int[n];
        for (int l = 0; l < n; l++) {
            src[l] = l < start ? l : start - (sliding[l] ? 2 : 1);
            if (src[l] < 0) {
                throw new GgufFormatException(p + "attention.shared_kv_layers = " + shared + " leaves layer " + l
                        + " without a donor layer to read the KV cache of");
            }
        }
        return src;
    }

    private static void requireSame(GgufMetadata md, String k, String v) {
        if (md.has(k) && md.has(v) && md.getInt(k, 1) != md.getInt(v, 1)) {
            throw new GgufFormatException(k + " (" + md.getInt(k, 1) + ") and " + v + " (" + md.getInt(v, 1)
                    + ") differ; Gemma 4 requires equal key and value head sizes");
        }
    }

    /**
     * Gemma 2 27B and Gemma 3 27B scale queries by 1/sqrt(dim/heads) instead of 1/sqrt(head_dim).
     * GGUF has no key for it; llama.cpp tells them apart by layer count, and so do we.
     */
    private static double queryPreAttnScalar(Arch arch, int dim, int heads, int headDim, int layers) {
        if ((arch == Arch.GEMMA2 && layers == 46) || (arch == Arch.GEMMA3 && layers == 62)) {
            return (double) dim / heads;
        }
        return headDim;
    }

    /** llama.cpp's set_swa_pattern: layer l is local iff l % period < period - 1. */
    private static boolean[] slidingPattern(GgufMetadata md, Arch arch, String p, int n) {
        boolean[] s = new boolean[n];
        String key = p + "attention.sliding_window_pattern";
        if (md.has(key) && md.get(key).value() instanceof GgufArray arr) {
            if (!(arr.values() instanceof boolean[] b) || b.length != n) {
                throw new GgufFormatException(key + " must be a bool array with one entry per layer (" + n + ")");
            }
            return b.clone();
        }
        int period = switch (arch) {
            case GEMMA2 -> md.getInt(key, 1, 2);
            case GEMMA3 -> md.getInt(key, 1, 6);
            default -> 0;
        };
        for (int l = 0; period > 0 && l < n; l++) {
            s[l] = l % period < period - 1;
        }
        return s;
    }

    /** A scalar key, or a per-layer array of it (llama.cpp get_key_or_arr). {@code fallback} -1 = required. */
    static int[] perLayer(GgufMetadata md, String key, int n, int min, int fallback) {
        int[] out = new int[n];
        if (md.has(key) && md.get(key).value() instanceof GgufArray) {
            int[] a = md.getIntArray(key);
            if (a.length != n) {
                throw new GgufFormatException(key + " has " + a.length + " entries for " + n + " layers");
            }
            for (int i = 0; i < n; i++) {
                if (a[i] < min) {
                    throw new GgufFormatException(key + "[" + i + "] = " + a[i] + " is below " + min);
                }
            }
            return a;
        }
        int v = fallback == -1 ? md.getInt(key, min) : md.getInt(key, min, fallback);
        java.util.Arrays.fill(out, v);
        return out;
    }
}
