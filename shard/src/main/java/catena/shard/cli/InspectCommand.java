package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "inspect", description = "(not built yet)")
final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'inspect' is not built yet");
        return 1;
    }
}
