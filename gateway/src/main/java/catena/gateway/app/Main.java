package catena.gateway.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code catena}: serve a model (embedded, gateway or worker node) and the streaming client. Exit 0 ok, 2 bad input, 1 else. */
@Command(name = "catena", mixinStandardHelpOptions = true, version = "catena 0.1.0",
        description = "Serve Gemma/Llama GGUF models over gRPC from a pipeline of stages; stream completions.",
        subcommands = {ServeCommand.class, GenerateCommand.class, HealthCommand.class, BenchCommand.class})
public final class Main {
    public static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs a command; returns its exit code (serve blocks until the server stops). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new CliErrors());
        return cl.execute(args);
    }
}
