package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "tokenize", description = "(not built yet)")
final class TokenizeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'tokenize' is not built yet");
        return 1;
    }
}
