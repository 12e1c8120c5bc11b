package catena.gateway.app;

import catena.worker.actor.StageActor;
import java.util.concurrent.ExecutorService;

/**
 * A stage's memory and scheduling settings from the command line: the KV memory budget in bytes
 * (or {@link #AUTO}), the KV block size, the token budget of a pass (chunked prefill), the
 * positions a new sequence must find room for beyond its prompt, how many may wait, the memory
 * a worker advertises to the plan owner (its weights and KV must fit; {@link #AUTO} = what the
 * machine or container has available at start), and whether stages keep a prefix cache.
 */
public record StageSettings(long kvMemoryBytes, int kvBlockTokens, int maxBatchTokens, double prefillRatio,
                            int reserveTokens, int maxWaiting, long memoryBytes, int warmupRounds, boolean prefixCache) {
    /** Let the node measure it. */
    public static final long AUTO = -1;

    /**
     * Defaults: KV budget auto, blocks of 16, 256 tokens a pass, 2 prompt rows per decoding row, 16
     * positions reserve, 256 waiting, 2 warm-up rounds.
     */
    public static StageSettings defaults() {
        return new StageSettings(AUTO, 16, 256, 2, 16, 256, AUTO, 2, true);
    }

    /** Settings with the prefix cache on. */
    public StageSettings(long kvMemoryBytes, int kvBlockTokens, int maxBatchTokens, double prefillRatio,
                         int reserveTokens, int maxWaiting, long memoryBytes, int warmupRounds) {
        this(kvMemoryBytes, kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens, maxWaiting, memoryBytes,
                warmupRounds, true);
    }

    public StageSettings {
        if (kvMemoryBytes < 1 && kvMemoryBytes != AUTO) {
            throw new IllegalArgumentException("--kv-memory=" + kvMemoryBytes + ", expected a size > 0 or auto");
        }
        if (warmupRounds < 0) {
            throw new IllegalArgumentException("--warmup=" + warmupRounds + ", expected >= 0 (0 = no warm-up)");
        }
        if (!(prefillRatio >= 0)) {
            throw new IllegalArgumentException("--prefill-ratio=" + prefillRatio + ", expected >= 0 (0 = no limit)");
        }
        if (maxWaiting < 0) {
            throw new IllegalArgumentException("--max-waiting=" + maxWaiting + ", expected >= 0");
        }
        if (kvBlockTokens % 16 != 0) {
            // KV pages hold 16 positions: blocks of whole pages keep what a sequence is charged >= what it holds
            throw new IllegalArgumentException("--kv-block=" + kvBlockTokens + ", expected a multiple of 16 (the KV page)");
        }
        if (kvBlockTokens < 1 || maxBatchTokens < 1 || reserveTokens < 0) {
            throw new IllegalArgumentException("--kv-block=" + kvBlockTokens + ", --max-batch-tokens=" + maxBatchTokens
                    + ", reserve tokens=" + reserveTokens + ": expected >= 1, >= 1, >= 0");
        }
    }

    /** The same settings with {@code rounds} warm-up rounds. */
    public StageSettings withWarmupRounds(int rounds) {
        return new StageSettings(kvMemoryBytes, kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens, maxWaiting,
                memoryBytes, rounds, prefixCache);
    }

    /** The same settings with the prefix cache on or off. */
    public StageSettings withPrefixCache(boolean on) {
        return new StageSettings(kvMemoryBytes, kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens, maxWaiting,
                memoryBytes, warmupRounds, on);
    }

    /** Memory the worker offers to the plan owner. */
    long advertisedMemory() {
        if (memoryBytes != AUTO) {
            return memoryBytes;
        }
        return catena.shard.tensor.WeightMemory.availableBytes().orElse(Runtime.getRuntime().maxMemory());
    }

    /**
     * The KV budget in bytes for engines without a pool of their own (test engines): as given, or
     * auto (60% of the heap free at start). Model engines size their off-heap pool themselves
     * (KvMemory) and the stage charges against that.
     */
    static long kvBudget(long configured) {
        if (configured != AUTO) {
            return configured;
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return Math.max(1L << 20, (long) (free * 0.6));
    }

    StageActor.Settings toActorSettings(long advertised, ExecutorService compute) {
        return toActorSettings(advertised, compute, null);
    }

    StageActor.Settings toActorSettings(long advertised, ExecutorService compute, StageActor.Link link) {
        return new StageActor.Settings(kvBudget(kvMemoryBytes), kvBlockTokens, maxBatchTokens, prefillRatio, reserveTokens,
                maxWaiting, advertised, Runtime.getRuntime().availableProcessors(), warmupRounds, compute, prefixCache,
                link);
    }
}
