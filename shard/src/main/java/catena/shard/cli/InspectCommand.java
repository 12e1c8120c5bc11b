package catena.shard.cli;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufArray;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufMetadata;
import catena.shard.gguf.GgufValue;
import catena.shard.gguf.TensorInfo;
import java.io.PrintStream;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code inspect FILE}: what a GGUF holds, readable in one screen per section. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's architecture, hyper-parameters, tokenizer summary and tensor table.")
final class InspectCommand implements Callable<Integer> {
    private static final int MAX_ITEMS = 6;
    private static final int MAX_STRING = 80;

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF file")
    Path file;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException("no such model file: " + file);
        }
        try (GgufFile f = GgufFile.open(file)) {
            print(f, System.out);
        }
        return 0;
    }

    static void print(GgufFile f, PrintStream out) {
        GgufMetadata md = f.metadata();
        String arch = md.getString("general.architecture", "?");
        out.printf(Locale.ROOT, "file: %s (%,d bytes, GGUF v%d, alignment %d, tensor data at byte %d)%n",
                f.path(), f.fileSize(), f.version(), f.alignment(), f.dataOffset());
        out.println("architecture: " + arch);
        out.println("name: " + md.getString("general.name", "(none)"));
        if (md.has("general.file_type")) {
            long ft = md.getLong("general.file_type");
            out.println("file type: " + ft + fileTypeName(ft));
        }

        out.println();
        out.println("hyper-parameters (" + arch + ".*):");
        md.asMap().forEach((k, v) -> {
            if (k.startsWith(arch + ".")) {
                out.println("  " + k.substring(arch.length() + 1) + " = " + show(v));
            }
        });

        out.println();
        tokenizer(md, out);

        out.println();
        out.println("other metadata:");
        md.asMap().forEach((k, v) -> {
            if (!k.startsWith(arch + ".") && !k.startsWith("tokenizer.")) {
                out.println("  " + k + " = " + show(v));
            }
        });

        out.println();
        tensors(f, out);
    }

    private static void tokenizer(GgufMetadata md, PrintStream out) {
        out.println("tokenizer:");
        if (!md.has("tokenizer.ggml.model")) {
            out.println("  (none)");
            return;
        }
        String[] tokens = md.has("tokenizer.ggml.tokens") ? md.getStringArray("tokenizer.ggml.tokens") : new String[0];
        out.println("  model: " + md.getString("tokenizer.ggml.model")
                + (md.has("tokenizer.ggml.pre") ? " (pre-tokenizer " + md.getString("tokenizer.ggml.pre") + ")" : ""));
        out.println("  vocabulary: " + tokens.length + " tokens");
        if (md.has("tokenizer.ggml.merges")) {
            out.println("  merges: " + md.getArray("tokenizer.ggml.merges").length());
        }
        md.asMap().forEach((k, v) -> {
            if (k.startsWith("tokenizer.ggml.") && k.endsWith("_token_id") && v.isInteger()) {
                long id = v.asLong();
                String text = id >= 0 && id < tokens.length ? " " + quote(tokens[(int) id]) : " (outside the vocabulary)";
                out.println("  " + k.substring("tokenizer.ggml.".length(), k.length() - "_token_id".length())
                        + ": " + id + text);
            }
        });
        md.asMap().forEach((k, v) -> {
            boolean shown = k.equals("tokenizer.ggml.model") || k.equals("tokenizer.ggml.pre")
                    || k.equals("tokenizer.ggml.tokens") || k.equals("tokenizer.ggml.merges")
                    || (k.endsWith("_token_id") && v.isInteger());
            if (k.startsWith("tokenizer.") && !shown) {
                String shortKey = k.startsWith("tokenizer.ggml.") ? k.substring("tokenizer.ggml.".length())
                        : k.substring("tokenizer.".length());
                out.println("  " + shortKey + " = " + show(v));
            }
        });
    }

    private static void tensors(GgufFile f, PrintStream out) {
        int width = 4;
        for (String n : f.tensors().keySet()) {
            width = Math.max(width, n.length());
        }
        out.println("tensors:");
        out.printf(Locale.ROOT, "  %-" + width + "s  %-5s  %-22s  %14s%n", "name", "type", "shape (ne0 first)", "bytes");
        long bytes = 0;
        long params = 0;
        Map<GgmlType, long[]> byType = new TreeMap<>();
        for (TensorInfo t : f.tensors().values()) {
            out.printf(Locale.ROOT, "  %-" + width + "s  %-5s  %-22s  %,14d%n", t.name(), t.type(),
                    Arrays.toString(t.shape()), t.byteSize());
            bytes += t.byteSize();
            params += t.elementCount();
            long[] s = byType.computeIfAbsent(t.type(), x -> new long[2]);
            s[0]++;
            s[1] += t.byteSize();
        }
        out.printf(Locale.ROOT, "totals: %d tensors, %,d parameters, %,d bytes of tensor data (%.1f MiB)%n",
                f.tensors().size(), params, bytes, bytes / 1048576.0);
        StringBuilder sb = new StringBuilder("by type:");
        byType.forEach((t, s) -> sb.append(String.format(Locale.ROOT, " %s %d tensors %,d bytes;", t, s[0], s[1])));
        out.println(sb.substring(0, sb.length() - 1));
    }

    /** A value on one line: strings quoted and cut, arrays as their length, type and first items. */
    static String show(GgufValue v) {
        Object x = v.value();
        if (x instanceof GgufArray a) {
            int n = a.length();
            StringBuilder sb = new StringBuilder("[").append(n).append(" x ").append(a.elementType()).append("] [");
            for (int i = 0; i < Math.min(n, MAX_ITEMS); i++) {
                Object e = Array.get(a.values(), i);
                sb.append(i == 0 ? "" : ", ").append(e instanceof String s ? quote(s)
                        : e instanceof GgufArray g ? "[" + g.length() + " x " + g.elementType() + "]" : item(a, e));
            }
            return sb.append(n > MAX_ITEMS ? ", ...]" : "]").toString();
        }
        if (x instanceof String s) {
            return quote(s);
        }
        return switch (v.type()) {
            case UINT8, UINT16, UINT32, UINT64 -> Long.toUnsignedString(v.asLong());
            default -> String.valueOf(x);
        };
    }

    private static String item(GgufArray a, Object e) {
        return switch (a.elementType()) {
            case UINT8 -> String.valueOf(Byte.toUnsignedInt((Byte) e));
            case UINT16 -> String.valueOf(Short.toUnsignedInt((Short) e));
            case UINT32 -> Integer.toUnsignedString((Integer) e);
            case UINT64 -> Long.toUnsignedString((Long) e);
            default -> String.valueOf(e);
        };
    }

    private static String quote(String s) {
        String cut = s.length() > MAX_STRING ? s.substring(0, MAX_STRING) : s;
        String esc = cut.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
                .replace("'", "\\'");
        return "'" + esc + "'" + (s.length() > MAX_STRING ? "... (" + s.length() + " chars)" : "");
    }

    private static String fileTypeName(long ft) {
        return switch ((int) ft) {
            case 0 -> " (all F32)";
            case 1 -> " (mostly F16)";
            case 2 -> " (mostly Q4_0)";
            case 7 -> " (mostly Q8_0)";
            case 32 -> " (mostly BF16)";
            default -> "";
        };
    }
}
