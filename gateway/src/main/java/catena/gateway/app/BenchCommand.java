package catena.gateway.app;

import picocli.CommandLine.Command;

/** {@code catena bench ...}: benchmarks of a running server. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks of a running server.",
        subcommands = {BenchServeCommand.class})
final class BenchCommand {
}
