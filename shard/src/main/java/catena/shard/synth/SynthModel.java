package catena.shard.synth;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufWriter;

/**
 * A published model's shapes, written as a random-weight GGUF so that benchmarks and demos need no
 * download. One implementation per architecture family; {@link Presets} names them.
 */
public interface SynthModel {

    /** The preset's name, e.g. {@code gemma3-1b}. */
    String name();

    /** {@code general.architecture} of the file. */
    String arch();

    /** Layers of the full model. */
    int layerCount();

    /** The same shapes with another context length (a long-prompt test need not prefill 32K tokens). */
    SynthModel withContext(int context);

    /** Adds metadata and tensors for the first {@code layers} layers to {@code w}. */
    void describe(GgufWriter w, GgmlType type, int layers, RandomTensors random);
}
