package catena.shard.cli;

import catena.shard.gguf.GgmlType;
import catena.shard.quantize.Quantizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code quantize IN OUT}: llama-quantize's Q8_0 and Q4_0 choices, with byte-identical tensors. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a GGUF model's weight matrices to Q8_0 or Q4_0 (norms, the MoE router and matrices "
                + "whose rows are not a multiple of 32 are kept), as llama-quantize does.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN.gguf", description = "source model (F32, F16, BF16, Q4_0 or Q8_0 tensors)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "output file")
    Path out;

    @Option(names = "--type", defaultValue = "q8_0", description = "target type: q8_0 or q4_0 (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--output-tensor-type", description = "type of the output head (or of the token embedding "
            + "when the head is tied to it): q8_0, q4_0, f16 or f32 (default: q8_0; llama-quantize's Q6_K is not written)")
    String outputType;

    @Option(names = "--token-embedding-type", description = "type of the token embedding: q8_0, q4_0, f16 or f32 "
            + "(default: q8_0)")
    String embeddingType;

    @Override
    public Integer call() throws Exception {
        GgmlType weights = parse("--type", type, false);
        Quantizer.Targets defaults = Quantizer.Targets.of(weights);
        Quantizer.Targets targets = new Quantizer.Targets(weights,
                outputType == null ? defaults.output() : parse("--output-tensor-type", outputType, true),
                embeddingType == null ? defaults.tokenEmbedding() : parse("--token-embedding-type", embeddingType, true));
        if (!Files.isRegularFile(in)) {
            throw new BadInputException("no such model file: " + in);
        }
        long start = System.nanoTime();
        try (ProgressBar pb = new ProgressBarBuilder().setTaskName("quantize").setStyle(ProgressBarStyle.ASCII)
                .setUnit(" MB", 1 << 20).setInitialMax(-1).setConsumer(
                        new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()) {
            Quantizer.quantize(in, out, targets, (name, bytes) -> pb.stepBy(bytes), pb::maxHint);
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d bytes) in %.2f s%n", out, Files.size(out),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static GgmlType parse(String option, String value, boolean floats) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            case "f16" -> floats ? GgmlType.F16 : bad(option, value, false);
            case "f32" -> floats ? GgmlType.F32 : bad(option, value, false);
            default -> bad(option, value, floats);
        };
    }

    private static GgmlType bad(String option, String value, boolean floats) {
        throw new BadInputException(option + " " + value + ": must be q8_0 or q4_0" + (floats ? ", f16 or f32" : ""));
    }
}
