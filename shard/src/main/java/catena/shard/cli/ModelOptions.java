package catena.shard.cli;

import catena.shard.model.KvType;
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

    @Option(names = "--kv-type", paramLabel = "f32|f16|q8_0", defaultValue = "f32", description = "how the KV cache"
            + " stores keys and values: f32, f16 (half), q8_0 (llama.cpp's 8-bit blocks, computed as its flash"
            + " attention does) (default: ${DEFAULT-VALUE})")
    String kvType;

    /** The parsed {@code --kv-type}. */
    KvType kvType() {
        try {
            return KvType.parse(kvType);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
    }

    Model load() throws IOException {
        if (!Files.isRegularFile(model)) {
            throw new BadInputException("no such model file: " + model);
        }
        KvType type = kvType();
        try {
            return Model.load(model, LoadOptions.keepF32(keepF32).widenQ4(!keepQ4).kvType(type));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("--kv-type")) {
                throw new BadInputException(e.getMessage());
            }
            throw e;
        }
    }
}
