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

/** {@code quantize IN OUT}: llama-quantize's Q8_0 choices, with byte-identical tensors. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a GGUF model's weight matrices to Q8_0 (norms, the MoE router and matrices whose "
                + "rows are not a multiple of 32 are kept), as llama-quantize does.")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN.gguf", description = "source model (F32, F16, BF16, Q4_0 or Q8_0 tensors)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "output file")
    Path out;

    @Option(names = "--type", defaultValue = "q8_0", description = "target type (only q8_0; default ${DEFAULT-VALUE})")
    String type;

    @Override
    public Integer call() throws Exception {
        if (!type.toLowerCase(Locale.ROOT).equals("q8_0")) {
            throw new BadInputException("--type " + type + ": only q8_0 is supported");
        }
        if (!Files.isRegularFile(in)) {
            throw new BadInputException("no such model file: " + in);
        }
        long start = System.nanoTime();
        try (ProgressBar pb = new ProgressBarBuilder().setTaskName("quantize").setStyle(ProgressBarStyle.ASCII)
                .setUnit(" MB", 1 << 20).setInitialMax(-1).setConsumer(
                        new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err)).build()) {
            Quantizer.quantize(in, out, GgmlType.Q8_0, (name, bytes) -> pb.stepBy(bytes), pb::maxHint);
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d bytes) in %.2f s%n", out, Files.size(out),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
