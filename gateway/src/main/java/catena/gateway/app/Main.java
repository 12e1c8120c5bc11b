package catena.gateway.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code catena}: serve a model (embedded, gateway or worker node) and a streaming client. Exit 2 = bad input. */
@Command(name = "catena", mixinStandardHelpOptions = true, version = "catena 0.1.0",
        description = "Catena: a Gemma/Llama model cut into stages over Pekko actors, served over gRPC.",
        subcommands = {ServeCommand.class, GenerateCommand.class})
public final class Main {
    static final int EXIT_BAD_INPUT = 2;

    public static void main(String[] args) {
        int code = run(args);
        if (code != 0 || !ServeCommand.serving()) {
            System.exit(code);
        }
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean bad = e instanceof IllegalArgumentException || e instanceof java.nio.file.NoSuchFileException
                    || e instanceof catena.shard.gguf.GgufFormatException;
            String msg = e instanceof java.nio.file.NoSuchFileException n ? "no such file: " + n.getFile()
                    : e.getMessage() != null ? e.getMessage() : e.toString();
            cmd.getErr().println("catena: " + (bad ? "" : "error: ") + msg);
            if (System.getenv("CATENA_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return bad ? EXIT_BAD_INPUT : 1;
        });
        return cl.execute(args);
    }
}
