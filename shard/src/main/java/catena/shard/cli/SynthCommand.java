package catena.shard.cli;

import catena.shard.gguf.GgmlType;
import catena.shard.synth.Presets;
import catena.shard.synth.Synth;
import catena.shard.synth.SynthModel;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight model with the real shapes of a published one (for benchmarks and "
                + "demos; its output is nonsense).")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--arch", description = "architecture the preset must have (optional check)")
    String arch;

    @Option(names = "--preset", required = true, description = "one of: ${COMPLETION-CANDIDATES}",
            completionCandidates = PresetNames.class)
    String preset;

    @Option(names = "--type", defaultValue = "q8_0", description = "q8_0, q4_0 (every matrix, the embedding too) or f32 (default ${DEFAULT-VALUE})")
    String type;

    @Option(names = {"-o", "--out"}, required = true, description = "output GGUF file")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--layers", defaultValue = "0", description = "keep only the first N layers (0 = all)")
    int layers;

    static final class PresetNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Presets.all().keySet().iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        SynthModel m = Presets.get(preset);
        if (arch != null && !arch.equals(m.arch())) {
            throw new BadInputException("preset " + preset + " is a " + m.arch() + " model, not " + arch);
        }
        GgmlType t = switch (type.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            case "f32" -> GgmlType.F32;
            default -> throw new BadInputException("--type must be q8_0, q4_0 or f32, not " + type);
        };
        if (layers < 0) {
            throw new BadInputException("--layers must not be negative");
        }
        try (ProgressBar pb = new ProgressBarBuilder().setTaskName("synth " + preset).setStyle(ProgressBarStyle.ASCII)
                .setUnit(" MB", 1 << 20).setInitialMax(-1).continuousUpdate().build()) {
            Synth.write(m, t, out, seed, layers, (name, bytes) -> pb.stepBy(bytes), pb::maxHint);
        }
        System.err.println("wrote " + out);
        return 0;
    }
}
