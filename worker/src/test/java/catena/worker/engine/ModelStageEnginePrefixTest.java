package catena.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.model.KvType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The prefix cache over the real engine's off-heap pool: what the budget counts free, the pool
 * has free — after the warm-up, and after sequences shared, attached, were released and their
 * cached blocks evicted (every page back, none held by a block nobody can reach).
 */
class ModelStageEnginePrefixTest {
    private static final Path GEMMA3 = Path.of(System.getProperty("catena.fixtures", "../shared/fixtures"))
            .resolve("tiny/tiny-gemma3-f32.gguf");

    private static void pass(ModelStageEngine engine, BlockBudget kv, SequenceCache c, int[] tokens, int off, int n) {
        assertThat(kv.tryReserve(c, n)).isTrue();
        int[] rows = java.util.Arrays.copyOfRange(tokens, off, off + n);
        float[] x = new float[n * engine.dim()];
        engine.embed(rows, n, x);
        engine.forward(new SequenceCache[] {c}, new int[] {n}, 1, rows, x);
        kv.wrote(c, rows, 0, n);
    }

    private static int[] prompt(int first, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 10 + (first + 7 * i) % 200;
        }
        return t;
    }

    @Test
    void shouldGiveEveryWarmUpPageBackWhenTheStageTakesTraffic() throws Exception {
        assertThat(Files.isRegularFile(GEMMA3)).as("fixture %s", GEMMA3).isTrue();
        try (ModelStageEngine engine = ModelStageEngine.load(GEMMA3, true, 0, 4, KvType.F32, 1L << 20, 1)) {
            StageWarmup.run(engine, 2);
            BlockBudget kv = new BlockBudget(engine, engine.kvBudgetBytes(), 16, engine.kvBytesPerToken(), true);
            SequenceCache c = kv.newCache();
            pass(engine, kv, c, prompt(0, 3), 0, 3);
            assertThat(engine.kvPoolUsedBytes()).isEqualTo(c.bytes());
        }
    }

    @Test
    void shouldHoldNoPageOnceSharingSequencesAreReleasedAndTheirBlocksEvicted() throws Exception {
        assertThat(Files.isRegularFile(GEMMA3)).as("fixture %s", GEMMA3).isTrue();
        try (ModelStageEngine engine = ModelStageEngine.load(GEMMA3, true, 0, 4, KvType.F32, 1L << 20, 1)) {
            BlockBudget kv = new BlockBudget(engine, engine.kvBudgetBytes(), 16, engine.kvBytesPerToken(), true);
            assertThat(kv.prefixCache()).isTrue();
            int[] a = prompt(0, 50);
            SequenceCache ca = kv.newCache();
            for (int at = 0; at < 50; at += 10) {
                pass(engine, kv, ca, a, at, 10);
            }
            assertThat(kv.prefixStats().cachedBlocks()).isEqualTo(3);
            int[] b = java.util.Arrays.copyOf(a, 60);
            System.arraycopy(prompt(99, 10), 0, b, 50, 10);
            SequenceCache cb = kv.newCache();
            assertThat(kv.cachedPrefix(b, 60)).isEqualTo(48);
            assertThat(kv.attachPrefix(cb, b, 48)).isTrue();
            kv.release(ca); // a cancel while b still reads the shared pages
            pass(engine, kv, cb, b, 48, 12);
            kv.release(cb);
            assertThat(kv.freeBlocks()).isEqualTo(kv.totalBlocks());
            assertThat(kv.evictIdle()).isEqualTo(3);
            SequenceCache last = kv.newCache();
            pass(engine, kv, last, prompt(300, 1), 0, 1);
            assertThat(engine.kvPoolUsedBytes()).isEqualTo(last.bytes());
        }
    }
}
