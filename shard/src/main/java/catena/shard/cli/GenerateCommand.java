package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "generate", description = "(not built yet)")
final class GenerateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'generate' is not built yet");
        return 1;
    }
}
