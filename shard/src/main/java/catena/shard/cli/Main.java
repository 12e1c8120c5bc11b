package catena.shard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code catena-shard}: the engine's model tools. Exit codes: 0 success, 2 bad input, 1 anything else. */
@Command(name = "catena-shard", mixinStandardHelpOptions = true, version = "catena-shard 0.1.0",
        description = "Catena engine tools: inspect, quantize, tokenize, run and benchmark GGUF models on the CPU.",
        subcommands = {
            InspectCommand.class,
            QuantizeCommand.class,
            TokenizeCommand.class,
            LogitsCommand.class,
            GenerateCommand.class,
            SynthCommand.class,
            BenchCommand.class,
            PerplexityCommand.class,
            PruneCommand.class,
        })
public final class Main {
    public static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl.execute(args);
    }
}
