package catena.shard.model;

/**
 * How to load a model. {@code keepF32}: keep F32/F16/BF16 (and Q4_0) weights as F32 instead of
 * quantizing them to Q8_0 (exact comparisons). {@code widenQ4}: widen Q4_0 matrices to Q8_0 at
 * load, as Catena did before it computed with Q4_0 itself (for A/B comparisons; twice the bytes
 * held and read). {@code fromLayer}/{@code toLayer}: the layer range [a, b) a pipeline stage
 * holds; only those tensors are mapped (plus the embedding when a = 0 and the final norm and
 * output head when b = the layer count). {@code kvType}: how KV caches store keys and values;
 * {@code kvMemoryBytes}: the byte budget of the slice's KV page pool ({@link KvPool#UNBOUNDED}:
 * pages allocated on demand without a limit, as the CLI runs; {@link KvMemory#AUTO}: what the
 * process's memory limit leaves, see {@link KvMemory}); {@code kvShare}: how many stages of this
 * process split an auto budget.
 */
public record LoadOptions(boolean keepF32, boolean widenQ4, int fromLayer, int toLayer, KvType kvType,
                          long kvMemoryBytes, int kvShare) {
    public static final int ALL = -1;

    /**
     * Whether serving (stages, and the commands unless {@code --keep-q4}) widens Q4_0 to Q8_0:
     * measured side by side on the gemma3-1b shape, the 4-bit kernels decode at 11-13 tok/s
     * against 25-33 widened (README), so holding 4 bits is the memory-saving option, not the default.
     */
    public static final boolean SERVING_WIDENS_Q4 = true;

    public static LoadOptions defaults() {
        return new LoadOptions(false, false, 0, ALL, KvType.F32, KvPool.UNBOUNDED, 1);
    }

    public static LoadOptions keepF32(boolean keepF32) {
        return new LoadOptions(keepF32, false, 0, ALL, KvType.F32, KvPool.UNBOUNDED, 1);
    }

    public LoadOptions layers(int from, int to) {
        return new LoadOptions(keepF32, widenQ4, from, to, kvType, kvMemoryBytes, kvShare);
    }

    public LoadOptions widenQ4(boolean widen) {
        return new LoadOptions(keepF32, widen, fromLayer, toLayer, kvType, kvMemoryBytes, kvShare);
    }

    /** The same options with KV caches of {@code type}. */
    public LoadOptions kvType(KvType type) {
        return new LoadOptions(keepF32, widenQ4, fromLayer, toLayer, type, kvMemoryBytes, kvShare);
    }

    /** The same options with a KV pool of at most {@code bytes} ({@link KvPool#UNBOUNDED}: no limit). */
    public LoadOptions kvMemory(long bytes) {
        if (bytes < 1 && bytes != KvMemory.AUTO) {
            throw new IllegalArgumentException("--kv-memory=" + bytes + ", expected a size > 0 or auto");
        }
        return new LoadOptions(keepF32, widenQ4, fromLayer, toLayer, kvType, bytes, kvShare);
    }

    /** The same options with an auto KV budget split among {@code stages} stages of this process. */
    public LoadOptions kvShare(int stages) {
        return new LoadOptions(keepF32, widenQ4, fromLayer, toLayer, kvType, kvMemoryBytes, stages);
    }
}
