package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "quantize", description = "(not built yet)")
final class QuantizeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'quantize' is not built yet");
        return 1;
    }
}
