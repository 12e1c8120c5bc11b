package catena.worker.engine;

import catena.shard.model.Batch;
import catena.shard.model.KvBlock;
import catena.shard.model.KvCache;
import catena.shard.model.KvMemory;
import catena.shard.model.KvPool;
import catena.shard.model.KvType;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.Sampler;
import catena.shard.sample.SamplingParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The engine's model slice as a {@link StageEngine}: maps only the tensors of its layers. */
public final class ModelStageEngine implements StageEngine {
    private final Model model;
    private final ModelFacts facts;
    private final int from;
    private final int to;
    private final Batch batch = new Batch();
    private final Sampler sampler = new Sampler();

    private ModelStageEngine(Model model, ModelFacts facts, int from, int to) {
        this.model = model;
        this.facts = facts;
        this.from = from;
        this.to = to;
    }

    /** Loads layers [from, to) of the GGUF at {@code path}, with an f32 KV pool of an auto budget. */
    public static ModelStageEngine load(Path path, boolean keepF32, int from, int to) throws IOException {
        return load(path, keepF32, from, to, KvType.F32, KvMemory.AUTO, 1);
    }

    /**
     * Loads layers [from, to) with KV caches of {@code kvType} in a pool of {@code kvMemoryBytes}
     * ({@link KvMemory#AUTO}: what the memory limit leaves after the weights, split among
     * {@code kvShare} stages of this process).
     */
    public static ModelStageEngine load(Path path, boolean keepF32, int from, int to, KvType kvType,
                                        long kvMemoryBytes, int kvShare) throws IOException {
        ModelFacts facts = ModelFacts.read(path);
        return new ModelStageEngine(Model.load(path, LoadOptions.keepF32(keepF32).widenQ4(LoadOptions.SERVING_WIDENS_Q4)
                .layers(from, to).kvType(kvType).kvMemory(kvMemoryBytes).kvShare(kvShare)), facts, from, to);
    }

    @Override
    public int fromLayer() {
        return from;
    }

    @Override
    public int toLayerExclusive() {
        return to;
    }

    @Override
    public int layerCount() {
        return facts.layerCount();
    }

    @Override
    public int dim() {
        return facts.dim();
    }

    @Override
    public int vocabSize() {
        return facts.vocabSize();
    }

    @Override
    public int contextLength() {
        return facts.contextLength();
    }

    @Override
    public long kvBytesPerToken() {
        return model.kvPool().bytesPerToken();
    }

    @Override
    public long kvBudgetBytes() {
        return model.kvPool().capacityBytes();
    }

    @Override
    public String kvType() {
        return model.kvPool().type().flag();
    }

    @Override
    public long kvPoolUsedBytes() {
        return model.kvPool().usedBytes();
    }

    @Override
    public SequenceCache newCache() {
        return new Cache(model.newCache());
    }

    /**
     * Blocks of whole pages, and no sliding window shorter than a block: a block is shared right
     * after the pass that completes it, and a sliding layer still holds all of its pages then only
     * if its window spans the block.
     */
    @Override
    public boolean canShare(int blockTokens) {
        if (blockTokens % KvPool.PAGE_TOKENS != 0) {
            return false;
        }
        for (int l = from; l < to; l++) {
            var spec = model.config().layer(l);
            if (spec.sliding() && spec.window() < blockTokens) {
                return false;
            }
        }
        return true;
    }

    @Override
    public SharedKv share(SequenceCache cache, int firstPosition, int positions) {
        return new Shared(((Cache) cache).kv.share(firstPosition, positions));
    }

    @Override
    public void attach(SequenceCache cache, List<SharedKv> blocks, int positions) {
        List<KvBlock> kv = new ArrayList<>(blocks.size());
        for (SharedKv b : blocks) {
            kv.add(((Shared) b).block);
        }
        ((Cache) cache).kv.attach(kv, positions);
    }

    private record Shared(KvBlock block) implements SharedKv {
        @Override
        public void release() {
            block.release();
        }
    }

    @Override
    public void embed(int[] tokens, int n, float[] x) {
        model.embed(tokens, 0, n, x);
    }

    @Override
    public void forward(SequenceCache[] caches, int[] counts, int size, int[] tokens, float[] x) {
        batch.clear();
        for (int i = 0, row = 0; i < size; i++) {
            batch.add(((Cache) caches[i]).kv, tokens, row, counts[i]);
            row += counts[i];
        }
        model.forward(batch, x);
    }

    @Override
    public void logits(float[] x, int[] rows, int count, float[] logits) {
        model.logits(x, rows, count, logits);
    }

    @Override
    public int sample(float[] logits, int off, SamplingParams params, long step, int[] history, int historyLen) {
        return sampler.next(logits, off, vocabSize(), params, step, history, historyLen);
    }

    @Override
    public void close() {
        model.close();
    }

    private record Cache(KvCache kv) implements SequenceCache {
        @Override
        public int length() {
            return kv.length();
        }

        @Override
        public long bytes() {
            return kv.bytes();
        }

        @Override
        public void free() {
            kv.free();
        }
    }
}
