package catena.shard.cli;

import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.Model;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run token ids through the model (each position sees the ones before it) and write the "
                + "logits of every position as float32 little-endian, row-major [ids][vocab].")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--ids", required = true, paramLabel = "2,17,33", description = "comma-separated token ids")
    String ids;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "OUT.f32", description = "output file")
    Path out;

    @Option(names = "--chunk", defaultValue = "256", description = "rows per batched pass (default ${DEFAULT-VALUE})")
    int chunk;

    @Override
    public Integer call() throws Exception {
        int[] tokens = Ids.parse("--ids", ids);
        if (chunk < 1) {
            throw new BadInputException("--chunk must be at least 1");
        }
        try (Model m = modelOptions.load()) {
            int vocab = m.config().vocabSize();
            int dim = m.config().dim();
            if (tokens.length > m.config().contextLength()) {
                throw new BadInputException(tokens.length + " ids exceed the model's context length "
                        + m.config().contextLength());
            }
            for (int t : tokens) {
                if (t < 0 || t >= vocab) {
                    throw new BadInputException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
                }
            }
            KvCache cache = m.newCache();
            Batch batch = new Batch();
            float[] x = new float[Math.min(chunk, tokens.length) * dim];
            float[] logits = new float[vocab];
            ByteBuffer row = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
                for (int off = 0; off < tokens.length; off += chunk) {
                    int n = Math.min(chunk, tokens.length - off);
                    m.embed(tokens, off, n, x);
                    batch.clear();
                    m.forward(batch.add(cache, tokens, off, n), x);
                    for (int r = 0; r < n; r++) {
                        m.logits(x, r, logits);
                        row.clear();
                        row.asFloatBuffer().put(logits);
                        os.write(row.array());
                    }
                }
            }
        }
        return 0;
    }
}
