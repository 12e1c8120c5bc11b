package catena.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.model.KvType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stage's block budget and the engine's off-heap pool count the same memory. */
class ModelStageEngineKvTest {
    private static final Path GEMMA3 = Path.of(System.getProperty("catena.fixtures", "../shared/fixtures"))
            .resolve("tiny/tiny-gemma3-f32.gguf");

    @Test
    void shouldAdmitExactlyWhatThePoolHoldsAndGetEveryPageBack() throws Exception {
        assertThat(Files.isRegularFile(GEMMA3)).as("fixture %s", GEMMA3).isTrue();
        long budget = 64L << 10;
        try (ModelStageEngine engine = ModelStageEngine.load(GEMMA3, true, 0, 4, KvType.Q8_0, budget, 1)) {
            assertThat(engine.kvType()).isEqualTo("q8_0");
            assertThat(engine.kvBudgetBytes()).isEqualTo(budget);
            BlockBudget kv = new BlockBudget(engine, engine.kvBudgetBytes(), 16, engine.kvBytesPerToken());
            // 4 layers x K,V x 68 bytes (64 values in q8_0) = 544 bytes a position, 8704 a block: 7 blocks in 64 KiB
            assertThat(engine.kvBytesPerToken()).isEqualTo(544);
            assertThat(kv.totalBlocks()).isEqualTo(7);
            int dim = engine.dim();
            List<SequenceCache> admitted = new ArrayList<>();
            // sequences of 20 positions (2 blocks each) until the budget says no: 3 fit, the 4th does not
            while (true) {
                SequenceCache c = kv.newCache();
                if (!kv.tryReserve(c, 20)) {
                    kv.release(c);
                    break;
                }
                int[] tokens = new int[20];
                java.util.Arrays.fill(tokens, 7);
                float[] x = new float[20 * dim];
                engine.embed(tokens, 20, x);
                engine.forward(new SequenceCache[] {c}, new int[] {20}, 1, tokens, x);
                admitted.add(c);
            }
            assertThat(admitted).hasSize(3);
            // the pool really holds what was charged, no more (sliding layers may hold less)
            assertThat(engine.kvPoolUsedBytes()).isPositive().isLessThanOrEqualTo(6 * kv.bytesPerBlock());
            admitted.forEach(kv::release);
            assertThat(kv.freeBlocks()).isEqualTo(kv.totalBlocks());
            // the next pass takes the freed pages back
            SequenceCache last = kv.newCache();
            assertThat(kv.tryReserve(last, 1)).isTrue();
            int[] one = {7};
            float[] x = new float[dim];
            engine.embed(one, 1, x);
            engine.forward(new SequenceCache[] {last}, new int[] {1}, 1, one, x);
            assertThat(engine.kvPoolUsedBytes()).isEqualTo(last.bytes());
        }
    }
}
