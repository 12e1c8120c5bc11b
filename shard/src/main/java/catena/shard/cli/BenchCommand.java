package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "bench", description = "(not built yet)")
final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'bench' is not built yet");
        return 1;
    }
}
