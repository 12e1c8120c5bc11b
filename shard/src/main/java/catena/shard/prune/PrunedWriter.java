package catena.shard.prune;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufArray;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufValueType;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import catena.shard.model.ModelConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the pruned model: the input's metadata with the new geometry ({@code block_count};
 * {@code feed_forward_length} and {@code attention.head_count} as one number when every layer has
 * the same, else as per-layer UINT32 arrays as llama.cpp's get_key_or_arr reads them; the head
 * size written out as {@code attention.key_length}/{@code value_length} once heads are removed,
 * since readers otherwise derive it as dim / head_count), then every tensor in input order: kept
 * layers renumbered, their FFN and attention matrices cut (or replaced by the repaired ones, also
 * a refitted attention output of a layer that keeps every head), the rest copied byte for byte.
 */
final class PrunedWriter {
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.(.*)$");
    private static final long COPY_SLICE = 64L << 20;

    private PrunedWriter() {
    }

    static void write(GgufFile in, ModelConfig c, PrunePlan plan, Path out) throws IOException {
        String p = c.arch().key + ".";
        int n = c.layerCount();
        GgufWriter w = new GgufWriter();
        Map<String, GgufValue> md = new LinkedHashMap<>();
        for (Map.Entry<String, GgufValue> e : in.metadata().asMap().entrySet()) {
            md.put(e.getKey(), perLayerFiltered(e.getKey(), e.getValue(), p, plan));
        }
        int kept = 0;
        for (boolean d : plan.dropped()) {
            kept += d ? 0 : 1;
        }
        int[] ffn = new int[kept];
        int[] heads = new int[kept];
        boolean headsChanged = false;
        for (int l = 0, i = 0; l < n; l++) {
            if (plan.dropped()[l]) {
                continue;
            }
            ffn[i] = plan.keptNeurons()[l] == null ? c.layer(l).ffnDim() : plan.keptNeurons()[l].length;
            heads[i] = plan.keptHeads()[l] == null ? c.layer(l).heads() : plan.keptHeads()[l].length;
            headsChanged |= heads[i] != c.layer(l).heads();
            i++;
        }
        md.put(p + "block_count", GgufValue.ofUint32(kept));
        md.put(p + "feed_forward_length", scalarOrArray(ffn));
        md.put(p + "attention.head_count", scalarOrArray(heads));
        if (headsChanged && !md.containsKey(p + "attention.key_length")) {
            md.put(p + "attention.key_length", GgufValue.ofUint32(c.layer(0).headDim()));
            md.put(p + "attention.value_length", GgufValue.ofUint32(c.layer(0).headDim()));
        }
        w.putAll(md);
        for (TensorInfo t : in.tensors().values()) {
            Matcher m = LAYER.matcher(t.name());
            if (!m.matches()) {
                copy(w, in, t, t.name());
                continue;
            }
            int l = Integer.parseInt(m.group(1));
            if (plan.dropped()[l]) {
                continue;
            }
            String name = "blk." + plan.newIndex(l) + "." + m.group(2);
            add(w, in, c, plan, l, t, m.group(2), name);
        }
        w.write(out);
    }

    private static void add(GgufWriter w, GgufFile in, ModelConfig c, PrunePlan plan, int l, TensorInfo t,
                            String part, String name) {
        int[] neurons = plan.keptNeurons()[l];
        int[] heads = plan.keptHeads()[l];
        int hd = c.layer(l).headDim();
        int rows = (int) Math.min(Integer.MAX_VALUE, t.rows());
        int cols = (int) Math.min(Integer.MAX_VALUE, t.cols());
        if (neurons != null && (part.equals("ffn_gate.weight") || part.equals("ffn_up.weight"))) {
            put(w, name, Tensors.rows(Tensors.read(in, t), cols, neurons), neurons.length, cols, t.type());
        } else if (neurons != null && part.equals("ffn_down.weight")) {
            float[] v = plan.ffnDown()[l] != null ? plan.ffnDown()[l]
                    : Ridge.columns(Tensors.read(in, t), rows, cols, neurons);
            put(w, name, v, rows, neurons.length, t.type());
        } else if (heads != null && part.equals("attn_q.weight")) {
            int[] r = Tensors.expand(heads, hd);
            put(w, name, Tensors.rows(Tensors.read(in, t), cols, r), r.length, cols, t.type());
        } else if (heads != null && part.equals("attn_output.weight")) {
            int[] k = Tensors.expand(heads, hd);
            float[] v = plan.attnOutput()[l] != null ? plan.attnOutput()[l]
                    : Ridge.columns(Tensors.read(in, t), rows, cols, k);
            put(w, name, v, rows, k.length, t.type());
        } else if (plan.attnOutput()[l] != null && part.equals("attn_output.weight")) {
            // every head kept, the projection refitted (sequential attention repair)
            put(w, name, plan.attnOutput()[l], rows, cols, t.type());
        } else if ((neurons != null && part.startsWith("ffn_") && !part.endsWith("norm.weight"))
                || (heads != null && (part.startsWith("attn_q.") || part.startsWith("attn_output.")))) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': pruning does not know how to cut it "
                    + "(only ffn_gate/ffn_up/ffn_down and attn_q/attn_output weights are supported)");
        } else {
            copy(w, in, t, name);
        }
    }

    private static void put(GgufWriter w, String name, float[] m, int rows, int cols, GgmlType source) {
        Tensors.add(w, name, m, rows, cols, Tensors.storedType(source, cols));
    }

    private static void copy(GgufWriter w, GgufFile in, TensorInfo t, String name) {
        MemorySegment src = in.tensorData(t);
        w.tensor(name, t.shape(), t.type(), sink -> {
            for (long at = 0; at < src.byteSize(); at += COPY_SLICE) {
                sink.put(src.asSlice(at, Math.min(COPY_SLICE, src.byteSize() - at)).asByteBuffer());
            }
        });
    }

    private static GgufValue scalarOrArray(int[] v) {
        for (int x : v) {
            if (x != v[0]) {
                return GgufValue.ofArray(GgufValueType.UINT32, v.clone());
            }
        }
        return GgufValue.ofUint32(v[0]);
    }

    /** A per-layer array of the architecture (one entry per input layer) loses the dropped layers' entries. */
    private static GgufValue perLayerFiltered(String key, GgufValue v, String prefix, PrunePlan plan) {
        if (!key.startsWith(prefix) || !(v.value() instanceof GgufArray a) || a.length() != plan.layerCount()) {
            return v;
        }
        Object vals = a.values();
        int kept = 0;
        for (boolean d : plan.dropped()) {
            kept += d ? 0 : 1;
        }
        if (kept == plan.layerCount()) {
            return v;
        }
        Object out = java.lang.reflect.Array.newInstance(vals.getClass().getComponentType(), kept);
        for (int l = 0, i = 0; l < plan.layerCount(); l++) {
            if (!plan.dropped()[l]) {
                java.lang.reflect.Array.set(out, i++, java.lang.reflect.Array.get(vals, l));
            }
        }
        return GgufValue.ofArray(a.elementType(), out);
    }
}
