package catena.shard.synth;

import static catena.shard.synth.Gemma3Preset.norm;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import catena.shard.gguf.GgufWriter;

/**
 * Gemma 4 text-model shapes (GEMMA_SPEC.md §8, §12.2, §12.4): local/global layers with their own
 * head sizes and KV heads, global layers every {@code globalEvery}-th layer with 25 % proportional
 * RoPE, optional K=V on global layers, per-layer embeddings of width {@code pleDim}, the last
 * {@code sharedKv} layers reading earlier layers' KV caches (with {@code sharedFfn}-wide MLPs when
 * non-zero, E2B's double-wide MLP), and optional MoE with a shared dense branch.
 *
 * <p>{@code --layers N} keeps the first N layers and the layer index where KV sharing starts, so
 * a truncated model has {@code max(0, N - (L - sharedKv))} sharing layers and the same donors.
 */
public record Gemma4Preset(String name, int layerCount, int dim, int heads, int kvHeadsLocal, int kvHeadsGlobal,
                           int headDimLocal, int headDimGlobal, int ffn, int sharedFfn, int globalEvery, int window,
                           int pleDim, int sharedKv, boolean kEqV, int experts, int expertsUsed, int expertFfn,
                           int vocab, int context) implements SynthModel {
    private static final float STD = 0.02f;

    @Override
    public String arch() {
        return "gemma4";
    }

    boolean sliding(int l) {
        return l % globalEvery != globalEvery - 1;
    }

    @Override
    public void describe(GgufWriter w, GgmlType type, int layers, RandomTensors random) {
        int kvStart = layerCount - sharedKv;
        int shared = Math.max(0, layers - kvStart);
        boolean[] sliding = new boolean[layers];
        int[] ffns = new int[layers];
        int[] kvHeads = new int[layers];
        for (int l = 0; l < layers; l++) {
            sliding[l] = sliding(l);
            ffns[l] = l >= kvStart && sharedFfn > 0 ? sharedFfn : ffn;
            kvHeads[l] = sliding[l] ? kvHeadsLocal : kvHeadsGlobal;
        }
        String p = "gemma4.";
        w.putString("general.architecture", "gemma4");
        w.putString("general.name", name + " (random weights, catena-shard synth)");
        w.putUint32("general.file_type", type == GgmlType.Q8_0 ? 7 : type == GgmlType.Q4_0 ? 2 : 0);
        w.putUint32(p + "context_length", context);
        w.putUint32(p + "embedding_length", dim);
        w.putUint32(p + "block_count", layers);
        w.put(p + "feed_forward_length", GgufValue.ofArray(GgufValueType.UINT32, ffns));
        w.putUint32(p + "attention.head_count", heads);
        w.put(p + "attention.head_count_kv", GgufValue.ofArray(GgufValueType.UINT32, kvHeads));
        w.putUint32(p + "attention.key_length", headDimGlobal);
        w.putUint32(p + "attention.value_length", headDimGlobal);
        w.putUint32(p + "attention.key_length_swa", headDimLocal);
        w.putUint32(p + "attention.value_length_swa", headDimLocal);
        w.putFloat32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
        w.putFloat32(p + "rope.freq_base", 1_000_000f);
        w.putFloat32(p + "rope.freq_base_swa", 10_000f);
        w.putUint32(p + "rope.dimension_count", headDimGlobal);
        w.putUint32(p + "rope.dimension_count_swa", headDimLocal);
        w.putUint32(p + "attention.sliding_window", window);
        w.put(p + "attention.sliding_window_pattern", GgufValue.ofArray(GgufValueType.BOOL, sliding));
        w.putUint32(p + "attention.shared_kv_layers", shared);
        w.putUint32(p + "embedding_length_per_layer_input", pleDim);
        w.putFloat32(p + "final_logit_softcapping", 30f);
        if (experts > 0) {
            w.putUint32(p + "expert_count", experts);
            w.putUint32(p + "expert_used_count", expertsUsed);
            w.putUint32(p + "expert_feed_forward_length", expertFfn);
        }
        Gemma4Vocab.write(w, vocab);

        w.tensor("token_embd.weight", new long[] {dim, vocab}, type,
                random.uniform("token_embd.weight", type, (long) dim * vocab, STD));
        norm(w, "output_norm.weight", dim);
        w.tensor("rope_freqs.weight", new long[] {headDimGlobal / 2}, GgmlType.F32,
                RandomTensors.floats(proportionalRopeFreqs()));
        if (pleDim > 0) {
            matrix(w, random, type, "per_layer_token_embd.weight", pleDim * layers, vocab, STD);
            matrix(w, random, type, "per_layer_model_proj.weight", dim, pleDim * layers, STD);
            norm(w, "per_layer_proj_norm.weight", pleDim);
        }
        for (int l = 0; l < layers; l++) {
            layer(w, type, random, l, sliding[l], kvHeads[l], ffns[l], l < kvStart);
        }
    }

    private void layer(GgufWriter w, GgmlType type, RandomTensors random, int l, boolean local, int kv, int ffnDim,
                       boolean ownsKv) {
        String b = "blk." + l + ".";
        int hd = local ? headDimLocal : headDimGlobal;
        norm(w, b + "attn_norm.weight", dim);
        matrix(w, random, type, b + "attn_q.weight", dim, heads * hd, STD);
        if (ownsKv) {
            matrix(w, random, type, b + "attn_k.weight", dim, kv * hd, STD);
            if (local || !kEqV) {
                matrix(w, random, type, b + "attn_v.weight", dim, kv * hd, STD);
            }
            norm(w, b + "attn_k_norm.weight", hd);
        }
        matrix(w, random, type, b + "attn_output.weight", heads * hd, dim, STD);
        norm(w, b + "attn_q_norm.weight", hd);
        norm(w, b + "post_attention_norm.weight", dim);
        norm(w, b + "ffn_norm.weight", dim);
        matrix(w, random, type, b + "ffn_gate.weight", dim, ffnDim, STD);
        matrix(w, random, type, b + "ffn_up.weight", dim, ffnDim, STD);
        matrix(w, random, type, b + "ffn_down.weight", ffnDim, dim, STD);
        norm(w, b + "post_ffw_norm.weight", dim);
        w.tensor(b + "layer_output_scale.weight", new long[] {1}, GgmlType.F32, RandomTensors.constant(1, 1f));
        if (pleDim > 0) {
            matrix(w, random, type, b + "inp_gate.weight", dim, pleDim, STD);
            matrix(w, random, type, b + "proj.weight", pleDim, dim, STD);
            norm(w, b + "post_norm.weight", dim);
        }
        if (experts > 0) {
            // The router stays F32 in quantized files, as llama-quantize leaves it.
            matrix(w, random, GgmlType.F32, b + "ffn_gate_inp.weight", dim, experts, STD);
            norm(w, b + "ffn_gate_inp.scale", dim);
            norm(w, b + "pre_ffw_norm_2.weight", dim);
            norm(w, b + "post_ffw_norm_1.weight", dim);
            norm(w, b + "post_ffw_norm_2.weight", dim);
            String gu = b + "ffn_gate_up_exps.weight";
            w.tensor(gu, new long[] {dim, 2L * expertFfn, experts}, type,
                    random.uniform(gu, type, (long) dim * 2 * expertFfn * experts, STD));
            String down = b + "ffn_down_exps.weight";
            w.tensor(down, new long[] {expertFfn, dim, experts}, type,
                    random.uniform(down, type, (long) expertFfn * dim * experts, STD));
            w.tensor(b + "ffn_down_exps.scale", new long[] {experts}, GgmlType.F32,
                    RandomTensors.constant(experts, 1f));
        }
    }

    /** As llama-quantize: a matrix whose rows are not a multiple of the Q8_0 block stays F32. */
    private static void matrix(GgufWriter w, RandomTensors random, GgmlType type, String name, int cols, int rows,
                               float std) {
        Gemma3Preset.matrix(w, random, cols % 32 == 0 ? type : GgmlType.F32, name, cols, rows, std);
    }

    /** llama.cpp's rope_freqs for 25 % partial rotation: divisor 1 for the first quarter of the pairs, 1e30 after. */
    private float[] proportionalRopeFreqs() {
        float[] f = new float[headDimGlobal / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = i < headDimGlobal / 8 ? 1f : 1e30f;
        }
        return f;
    }
}
