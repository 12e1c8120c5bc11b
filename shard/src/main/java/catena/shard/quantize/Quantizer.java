package catena.shard.quantize;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.GgufWriter;
import catena.shard.gguf.TensorInfo;
import catena.shard.tensor.Dequant;
import catena.shard.tensor.F32Matrix;
import catena.shard.tensor.Q4_0;
import catena.shard.tensor.Q8Matrix;
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
 * GGUF → Q8_0 or Q4_0 GGUF, choosing and encoding tensors as llama.cpp's {@code llama-quantize}
 * does, so that every tensor's bytes equal its output (see QuantizerTest): weights of 2 or more
 * dims whose rows (ne0) are a multiple of 32 become Q8_0, except the MoE router
 * ({@code ffn_gate_inp}) and Gemma's small {@code per_layer_model_proj} (llama-quant.cpp keeps
 * both as they are, as it does {@code altup}/{@code laurel} tensors); everything else is copied
 * unchanged. Tensors are written in llama-quantize's order (non-layer tensors first, then by
 * layer, by name within each), and {@code general.quantization_version} and
 * {@code general.file_type} are re-set at the end of the metadata, as gguf_set_val does.
 *
 * <p>The output head ({@code output.weight}, or {@code token_embd.weight} when the head is tied to
 * it) and the token embedding can be given their own types, as llama-quantize's
 * {@code --output-tensor-type} and {@code --token-embedding-type} do. Without them, Q4_0 files
 * keep those two in Q8_0 (llama-quantize would write Q6_K, which Catena does not compute with): the
 * mix of Gemma 3's QAT Q4_0 files and of the Q4_0 fixtures.
 */
public final class Quantizer {
    /** llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0. */
    public static final int FILE_TYPE_Q8_0 = 7;
    /** llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_0. */
    public static final int FILE_TYPE_Q4_0 = 2;
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

    /**
     * Target types: {@code weights} for the layer matrices, {@code output} for the output head,
     * {@code tokenEmbedding} for the token embedding (each Q8_0, Q4_0, F16 or F32).
     */
    public record Targets(GgmlType weights, GgmlType output, GgmlType tokenEmbedding) {
        public Targets {
            for (GgmlType t : new GgmlType[] {weights, output, tokenEmbedding}) {
                if (!canWrite(t)) {
                    throw new IllegalArgumentException("quantize writes q8_0, q4_0, f16 or f32, not " + t);
                }
            }
            if (weights != GgmlType.Q8_0 && weights != GgmlType.Q4_0) {
                throw new IllegalArgumentException("quantize writes q8_0 or q4_0 weights, not " + weights);
            }
        }

        /** {@code weights} everywhere, except Q4_0's head and embedding in Q8_0 (see the class doc). */
        public static Targets of(GgmlType weights) {
            GgmlType edge = weights == GgmlType.Q4_0 ? GgmlType.Q8_0 : weights;
            return new Targets(weights, edge, edge);
        }

        int fileType() {
            return weights == GgmlType.Q4_0 ? FILE_TYPE_Q4_0 : FILE_TYPE_Q8_0;
        }
    }

    /** The tensors of {@code in} in output order, each with its output type. */
    public static List<Step> plan(GgufFile in, GgmlType target) {
        return plan(in, Targets.of(target));
    }

    /** The tensors of {@code in} in output order, each with its output type. */
    public static List<Step> plan(GgufFile in, Targets targets) {
        boolean hasOutput = in.tensors().containsKey("output.weight");
        List<TensorInfo> ts = new ArrayList<>(in.tensors().values());
        ts.sort(Comparator.comparing(TensorInfo::name));
        ts.sort(Comparator.comparingInt(Quantizer::layerOf));
        List<Step> steps = new ArrayList<>();
        for (TensorInfo t : ts) {
            GgmlType target = targetOf(t, targets, hasOutput);
            if (quantizable(t) && t.type() != target && !canDecode(t.type())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type()
                        + ": quantize reads F32, F16, BF16, Q4_0 and Q8_0 tensors");
            }
            steps.add(new Step(t, quantizable(t) ? target : t.type()));
        }
        return steps;
    }

    /** As llama-quantize: the head (or the embedding standing in for it) first, then the embedding. */
    private static GgmlType targetOf(TensorInfo t, Targets targets, boolean hasOutput) {
        String n = t.name();
        if (n.equals("output.weight") || (!hasOutput && n.equals("token_embd.weight"))) {
            return targets.output();
        }
        return n.equals("token_embd.weight") ? targets.tokenEmbedding() : targets.weights();
    }

    /**
     * Writes {@code in} quantized to {@code out}. {@code total} learns the output's data size
     * before writing starts; {@code progress} hears of each tensor written.
     */
    public static void quantize(Path in, Path out, GgmlType target, GgufWriter.Progress progress, LongConsumer total)
            throws IOException {
        quantize(in, out, Targets.of(target), progress, total);
    }

    /** As {@link #quantize(Path, Path, GgmlType, GgufWriter.Progress, LongConsumer)}, with a type per role. */
    public static void quantize(Path in, Path out, Targets targets, GgufWriter.Progress progress, LongConsumer total)
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
            w.putUint32("general.file_type", targets.fileType());
            for (Step s : plan(f, targets)) {
                TensorInfo t = s.tensor();
                MemorySegment src = f.tensorData(t);
                if (s.converts()) {
                    w.tensor(t.name(), t.shape(), s.to(), sink -> convert(t, s.to(), src, sink));
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

    /** Decodes row after row and encodes it as {@code to}, handing out about 1 MiB at a time. */
    private static void convert(TensorInfo t, GgmlType to, MemorySegment src, GgufWriter.TensorSink sink) throws IOException {
        int cols = Math.toIntExact(t.cols());
        long rows = t.rows();
        long srcRow = t.type().byteSizeFor(cols);
        int dstRow = Math.toIntExact(to.byteSizeFor(cols));
        int rowsPerChunk = Math.max(1, CHUNK / dstRow);
        float[] row = new float[cols];
        byte[] buf = new byte[rowsPerChunk * dstRow];
        MemorySegment dst = MemorySegment.ofArray(buf);
        for (long r = 0; r < rows; ) {
            int n = (int) Math.min(rowsPerChunk, rows - r);
            for (int i = 0; i < n; i++) {
                Dequant.decode(t.type(), src, (r + i) * srcRow, row, 0, cols);
                encode(to, row, cols, dst, (long) i * dstRow);
            }
            sink.put(ByteBuffer.wrap(buf, 0, n * dstRow));
            r += n;
        }
    }

    private static void encode(GgmlType to, float[] row, int cols, MemorySegment dst, long at) {
        switch (to) {
            case Q8_0 -> Q8_0.quantize(row, 0, cols, dst, at);
            case Q4_0 -> Q4_0.quantize(row, 0, cols, dst, at);
            case F32 -> MemorySegment.copy(row, 0, dst, F32Matrix.F32, at, cols);
            case F16 -> {
                for (int k = 0; k < cols; k++) {
                    dst.set(Q8Matrix.F16, at + 2L * k, Float.floatToFloat16(row[k]));
                }
            }
            default -> throw new IllegalArgumentException("quantize writes q8_0, q4_0, f16 or f32, not " + to);
        }
    }

    private static boolean canWrite(GgmlType t) {
        return t == GgmlType.Q8_0 || t == GgmlType.Q4_0 || t == GgmlType.F16 || t == GgmlType.F32;
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
