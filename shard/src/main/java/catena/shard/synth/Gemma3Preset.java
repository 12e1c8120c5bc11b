package catena.shard.synth;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufWriter;

/** Gemma 3 text-model shapes (GEMMA_SPEC.md §12.1); {@code ropeScaling} 0 = none. */
public record Gemma3Preset(String name, int layerCount, int dim, int heads, int kvHeads, int headDim, int ffn,
                           int vocab, int context, int window, float ropeScaling) implements SynthModel {

    @Override
    public String arch() {
        return "gemma3";
    }

    @Override
    public void describe(GgufWriter w, GgmlType type, int layers, RandomTensors random) {
        String p = "gemma3.";
        w.putString("general.architecture", "gemma3");
        w.putString("general.name", name + " (random weights, catena-shard synth)");
        w.putUint32("general.file_type", type == GgmlType.Q8_0 ? 7 : type == GgmlType.Q4_0 ? 2 : 0);
        w.putUint32(p + "context_length", context);
        w.putUint32(p + "embedding_length", dim);
        w.putUint32(p + "block_count", layers);
        w.putUint32(p + "feed_forward_length", ffn);
        w.putUint32(p + "attention.head_count", heads);
        w.putUint32(p + "attention.head_count_kv", kvHeads);
        w.putUint32(p + "attention.key_length", headDim);
        w.putUint32(p + "attention.value_length", headDim);
        w.putFloat32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
        w.putFloat32(p + "rope.freq_base", 1_000_000f);
        w.putUint32(p + "attention.sliding_window", window);
        // Written as newer converters do (llama.cpp hard-codes both for gemma3): every 6th layer global, local base 1e4.
        w.putUint32(p + "attention.sliding_window_pattern", 6);
        w.putFloat32(p + "rope.freq_base_swa", 10_000f);
        if (ropeScaling > 0) {
            w.putString(p + "rope.scaling.type", "linear");
            w.putFloat32(p + "rope.scaling.factor", ropeScaling);
        }
        SynthVocab.gemmaSpm(w, vocab);
        float std = 0.02f;
        w.tensor("token_embd.weight", new long[] {dim, vocab}, type,
                random.uniform("token_embd.weight", type, (long) dim * vocab, std));
        w.tensor("output_norm.weight", new long[] {dim}, GgmlType.F32, RandomTensors.constant(dim, 1f));
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            norm(w, b + "attn_norm.weight", dim);
            matrix(w, random, type, b + "attn_q.weight", dim, heads * headDim, std);
            matrix(w, random, type, b + "attn_k.weight", dim, kvHeads * headDim, std);
            matrix(w, random, type, b + "attn_v.weight", dim, kvHeads * headDim, std);
            matrix(w, random, type, b + "attn_output.weight", heads * headDim, dim, std);
            norm(w, b + "attn_q_norm.weight", headDim);
            norm(w, b + "attn_k_norm.weight", headDim);
            norm(w, b + "post_attention_norm.weight", dim);
            norm(w, b + "ffn_norm.weight", dim);
            matrix(w, random, type, b + "ffn_gate.weight", dim, ffn, std);
            matrix(w, random, type, b + "ffn_up.weight", dim, ffn, std);
            matrix(w, random, type, b + "ffn_down.weight", ffn, dim, std);
            norm(w, b + "post_ffw_norm.weight", dim);
        }
    }

    static void norm(GgufWriter w, String name, int n) {
        w.tensor(name, new long[] {n}, GgmlType.F32, RandomTensors.constant(n, 1f));
    }

    static void matrix(GgufWriter w, RandomTensors random, GgmlType type, String name, int cols, int rows, float std) {
        w.tensor(name, new long[] {cols, rows}, type, random.uniform(name, type, (long) cols * rows, std));
    }
}
