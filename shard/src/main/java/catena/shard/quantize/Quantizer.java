package catena.shard.quantize;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import catena.shard.tensor.Dequant;
import catena.shard.tensor.Q8_0;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GGUF → Q8_0 GGUF, choosing and encoding tensors as llama.cpp's {@code llama-quantize ... Q8_0}
 * does, so that every tensor's bytes equal its output (see QuantizerTest): weights of 2 or more
 * dims whose rows (ne0) are a multiple of 32 become Q8_0, except the MoE router
 * ({@code ffn_gate_inp}) and Gemma's small {@code per_layer_model_proj} (llama-quant.cpp keeps
 * both as they are, as it does {@code altup}/{@code laurel} tensors); everything else is copied
 * unchanged. Tensors are written in llama-quantize's order (non-layer tensors first, then by
 * layer, by name within each), and {@code general.quantization_version} and
 * {@code general.file_type} are re-set at the end of the metadata, as gguf_set_val does.
 */
public final class Quantizer {
    /** llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0. */
    public static final int FILE_TYPE_Q8_0 = 7;
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");
    private static final int CHUNK = 1 << 20;
    private static final long COPY_SLICE = 64L << 20;

    private Quantizer() {
    }

    /** What happens to one tensor. */
    public record Step(TensorInfo tensor, GgmlType to) {
        public boolean converts() {
            return to != tensor.type();
        }
    }

    /** Whether llama-quantize would quantize this tensor (given a target with 32-element blocks). */
    public static boolean quantizable(TensorInfo t) {
        String n = t.name();
        return t.shape().length >= 2 && t.shape()[0] % 32 == 0
                && !n.contains("ffn_gate_inp") && !n.contains("per_layer_model_proj")
                && !n.contains("altup") && !n.contains("laurel");
    }

    /** The tensors of {@code in} in output order, each with its output type. */
    public static List<Step> plan(GgufFile in, GgmlType target) {
        if (target != GgmlType.Q8_0) {
            throw new IllegalArgumentException("quantize writes q8_0 only, not " + target);
        }
        List<TensorInfo> ts = new ArrayList<>(in.tensors().values());
        ts.sort(Comparator.comparing(TensorInfo::name));
        ts.sort(Comparator.comparingInt(Quantizer::layerOf));
        List<Step> steps = new ArrayList<>();
        for (TensorInfo t : ts) {
            if (quantizable(t) && t.type() != target && !canDecode(t.type())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type()
                        + ": quantize reads F32, F16, BF16, Q4_0 and Q8_0 tensors");
            }
            steps.add(new Step(t, quantizable(t) ? target : t.type()));
        }
        return steps;
    }

    /**
     * Writes {@code in} quantized to {@code out}. {@code total} learns the output's data size
     * before writing starts; {@code progress} hears of each tensor written.
     */
    public static void quantize(Path in, Path out, GgmlType target, GgufWriter.Progress progress, LongConsumer total)
            throws IOException {
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IllegalArgumentException("output " + out + " is the input file");
        }
        try (GgufFile f = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter();
            Map<String, GgufValue> md = new LinkedHashMap<>(f.metadata().asMap());
            md.remove("general.quantization_version");
            md.remove("general.file_type");
            w.putAll(md);
            w.putUint32("general.quantization_version", 2);
            w.putUint32("general.file_type", FILE_TYPE_Q8_0);
            for (Step s : plan(f, target)) {
                TensorInfo t = s.tensor();
                MemorySegment src = f.tensorData(t);
                if (s.converts()) {
                    w.tensor(t.name(), t.shape(), s.to(), sink -> toQ8(t, src, sink));
                } else {
                    w.tensor(t.name(), t.shape(), t.type(), sink -> copy(src, sink));
                }
            }
            if (total != null) {
                total.accept(w.dataBytes());
            }
            w.write(out, progress);
        }
    }

    /** Decodes row after row and quantizes it, handing out about 1 MiB of blocks at a time. */
    private static void toQ8(TensorInfo t, MemorySegment src, GgufWriter.TensorSink sink) throws IOException {
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        long srcRow = t.type().byteSizeFor(cols);
        int dstRow = Math.toIntExact(GgmlType.Q8_0.byteSizeFor(cols));
        int rowsPerChunk = Math.max(1, CHUNK / dstRow);
        float[] row = new float[cols];
        byte[] buf = new byte[rowsPerChunk * dstRow];
        MemorySegment dst = MemorySegment.ofArray(buf);
        for (long r = 0; r < rows; ) {
            int n = (int) Math.min(rowsPerChunk, rows - r);
            for (int i = 0; i < n; i++) {
                Dequant.decode(t.type(), src, (r + i) * srcRow, row, 0, cols);
                Q8_0.quantize(row, 0, cols, dst, (long) i * dstRow);
            }
            sink.put(ByteBuffer.wrap(buf, 0, n * dstRow));
            r += n;
        }
    }

    /** Hands out {@code src} in 64 MiB slices: one ByteBuffer cannot view a tensor of 2 GiB or more. */
    private static void copy(MemorySegment src, GgufWriter.TensorSink sink) throws IOException {
        for (long at = 0; at < src.byteSize(); at += COPY_SLICE) {
            sink.put(src.asSlice(at, Math.min(COPY_SLICE, src.byteSize() - at)).asByteBuffer());
        }
    }

    private static boolean canDecode(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16 || t == GgmlType.Q4_0 || t == GgmlType.Q8_0;
    }

    private static int layerOf(TensorInfo t) {
        Matcher m = LAYER.matcher(t.name());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
}
