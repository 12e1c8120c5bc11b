package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The off-heap page pool: reuse, reference counts, capacity, and no page lost through many sequences. */
class KvPoolTest {
    private static final Path GEMMA3 = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf");

    private static void run(Model m, KvCache cache, int tokens, int seed) {
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = 3 + (i * 7 + seed) % 500;
        }
        float[] x = new float[tokens * m.config().dim()];
        m.embed(ids, 0, tokens, x);
        m.forward(new Batch().add(cache, ids, 0, tokens), x);
    }

    @Test
    void shouldEndWithEveryPageFreeAfterManySequencesAreFreed() throws Exception {
        for (KvType type : KvType.values()) {
            try (Model m = Model.load(GEMMA3, LoadOptions.defaults().kvType(type))) {
                KvPool pool = m.kvPool();
                Random rnd = new Random(7);
                List<KvCache> live = new ArrayList<>();
                long allocatedAfterWarmup = -1;
                for (int round = 0; round < 60; round++) {
                    KvCache c = m.newCache();
                    live.add(c);
                    run(m, c, 1 + rnd.nextInt(40), round);
                    // decode a little on a random live sequence, free another one now and then
                    KvCache d = live.get(rnd.nextInt(live.size()));
                    run(m, d, 1, round);
                    if (live.size() > 4) {
                        live.remove(rnd.nextInt(live.size())).free();
                    }
                    long held = live.stream().mapToLong(KvCache::bytes).sum();
                    assertThat(pool.usedBytes()).as("%s round %d", type, round).isGreaterThanOrEqualTo(held);
                    if (round == 30) {
                        allocatedAfterWarmup = pool.allocatedBytes();
                    }
                }
                // steady state: freed pages are reused, so the pool stopped growing long ago
                assertThat(pool.allocatedBytes()).as("%s", type).isEqualTo(allocatedAfterWarmup);
                live.forEach(KvCache::free);
                pool.settleIdle();
                assertThat(pool.usedPages()).as("%s", type).isZero();
                assertThat(pool.usedBytes()).isZero();
                assertThat(pool.freeBytes()).isEqualTo(pool.allocatedBytes()).isPositive();
            }
        }
    }

    @Test
    void shouldFreeASharedPageOnlyWhenItsLastHolderReleasesIt() {
        try (KvPool pool = new KvPool(KvType.Q8_0, new int[] {64, 64}, KvPool.UNBOUNDED)) {
            int a = pool.take(64);
            pool.retain(a);
            assertThat(pool.refCount(a)).isEqualTo(2);
            pool.release(a);
            assertThat(pool.usedPages()).isEqualTo(1);
            pool.release(a);
            assertThat(pool.usedPages()).isZero();
            assertThatThrownBy(() -> pool.release(a)).hasMessageContaining("page=" + a + " is already free");
            assertThat(pool.take(64)).as("the freed page is handed out again").isEqualTo(a);
        }
    }

    @Test
    void shouldHoldExactlyTheBlocksItsBudgetAllowsPerPageSize() {
        // two layers of width 64, q8_0: 68 bytes a row, 2 x 2 x 68 = 272 bytes a position, 4352 a 16-position block
        KvType t = KvType.Q8_0;
        assertThat(t.rowBytes(64)).isEqualTo(68);
        try (KvPool pool = new KvPool(t, new int[] {64, 64}, 3 * 4352 + 100)) {
            assertThat(pool.bytesPerToken()).isEqualTo(272);
            assertThat(pool.capacityBlocks()).isEqualTo(3);
            assertThat(pool.capacityPages(64)).isEqualTo(12);
            for (int i = 0; i < 12; i++) {
                pool.take(64);
            }
            assertThat(pool.usedBytes()).isEqualTo(3 * 4352);
            assertThatThrownBy(() -> pool.take(64)).isInstanceOf(KvPoolExhaustedException.class)
                    .hasMessageContaining("expected at most 12");
        }
    }

    @Test
    void shouldStoreAQuarterOfTheBytesOfF32WithQ8AndHalfWithF16() {
        int kvDim = 256;
        assertThat((double) KvType.Q8_0.rowBytes(kvDim) / KvType.F32.rowBytes(kvDim)).isEqualTo(34.0 / 128);
        assertThat((double) KvType.F16.rowBytes(kvDim) / KvType.F32.rowBytes(kvDim)).isEqualTo(0.5);
    }

    @Test
    void shouldNameTheFlagWhenTheTypeIsUnknown() {
        assertThatThrownBy(() -> KvType.parse("q4_0")).hasMessage("--kv-type=q4_0, expected f32, f16 or q8_0");
        assertThat(KvType.parse("Q8_0")).isEqualTo(KvType.Q8_0);
    }
}
