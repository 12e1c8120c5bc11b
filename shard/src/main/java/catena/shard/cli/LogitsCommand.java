package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "logits", description = "(not built yet)")
final class LogitsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'logits' is not built yet");
        return 1;
    }
}
