package catena.shard.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "synth", description = "(not built yet)")
final class SynthCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("catena-shard: 'synth' is not built yet");
        return 1;
    }
}
