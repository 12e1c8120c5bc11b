package catena.shard.cli;

import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that loads a model takes. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file")
    Path model;

    @Option(names = "--keep-f32", description = "keep F32/F16/BF16 weights in F32 instead of quantizing them to Q8_0 (exact comparisons)")
    boolean keepF32;

    @Option(names = "--keep-q4", description = "hold Q4_0 weights as 4-bit blocks and compute with them (half the"
            + " memory; decode is slower than the default widening to Q8_0 until the 4-bit kernels catch up)")
    boolean keepQ4;

    Model load() throws IOException {
        if (!Files.isRegularFile(model)) {
            throw new BadInputException("no such model file: " + model);
        }
        return Model.load(model, LoadOptions.keepF32(keepF32).widenQ4(!keepQ4));
    }
}
