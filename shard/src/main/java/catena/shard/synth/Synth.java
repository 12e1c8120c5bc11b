package catena.shard.synth;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;

/** Writes random-weight models with the shapes of published ones. */
public final class Synth {
    private Synth() {
    }

    /** Writes {@code model}'s first {@code layers} layers (0 = all) as {@code type} to {@code out}. */
    public static void write(SynthModel model, GgmlType type, Path out, long seed, int layers) throws IOException {
        write(model, type, out, seed, layers, null);
    }

    public static void write(SynthModel model, GgmlType type, Path out, long seed, int layers,
                             GgufWriter.Progress progress) throws IOException {
        write(model, type, out, seed, layers, progress, null);
    }

    /** As above; {@code total} (if not null) learns the data size before writing starts. */
    public static void write(SynthModel model, GgmlType type, Path out, long seed, int layers,
                             GgufWriter.Progress progress, java.util.function.LongConsumer total) throws IOException {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0 && type != GgmlType.F32) {
            throw new IllegalArgumentException("synth writes q8_0, q4_0 or f32, not " + type);
        }
        int n = layers <= 0 ? model.layerCount() : layers;
        if (n > model.layerCount()) {
            throw new IllegalArgumentException(model.name() + " has " + model.layerCount() + " layers, not " + n);
        }
        GgufWriter w = new GgufWriter();
        model.describe(w, type, n, new RandomTensors(seed));
        if (total != null) {
            total.accept(w.dataBytes());
        }
        w.write(out, progress);
    }
}
