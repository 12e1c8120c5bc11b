package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Paged KV caches on tiny-gemma3 (4 layers, every third global, sliding window 24, one KV head of 64). */
class KvCacheTest {
    private static final Path GEMMA3 = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf");

    private static void run(Model m, KvCache cache, int tokens) {
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = 3 + (i * 7) % 500;
        }
        float[] x = new float[tokens * m.config().dim()];
        m.embed(ids, 0, tokens, x);
        m.forward(new Batch().add(cache, ids, 0, tokens), x);
    }

    /** Bytes a cache of {@code length} positions should hold after a pass that ended there. */
    private static long expected(ModelConfig c, int before, int length) {
        long b = 0;
        for (int l = 0; l < c.layerCount(); l++) {
            LayerSpec s = c.layer(l);
            if (s.kvDim() == 0 || s.kvSource() != l) {
                continue;
            }
            int first = s.sliding() ? Math.max(0, before - s.window() + 1) / KvPool.PAGE_TOKENS : 0;
            int last = (length - 1) / KvPool.PAGE_TOKENS;
            b += (long) (last - first + 1) * KvPool.PAGE_TOKENS * s.kvDim() * 2 * 4;
        }
        return b;
    }

    @Test
    void shouldHoldWholePagesForItsPositionsAndGiveBackSlidingPagesPastTheWindow() throws Exception {
        try (Model m = Model.load(GEMMA3, LoadOptions.defaults())) {
            ModelConfig c = m.config();
            assertThat(c.layer(0).sliding()).isTrue();
            KvCache cache = m.newCache();
            run(m, cache, 17);
            assertThat(cache.bytes()).isEqualTo(expected(c, 0, 17));
            int length = 17;
            for (int step = 0; step < 80; step++) {
                run(m, cache, 1);
                length++;
                assertThat(cache.bytes()).as("after position %d", length - 1).isEqualTo(expected(c, length - 1, length));
            }
            // 97 positions: a global layer holds 7 pages; a sliding one only the pages of its last 24 positions
            assertThat(expected(c, 96, 97)).isLessThan(expected(c, 0, 97));
        }
    }

    @Test
    void shouldReuseAFreedCachesPagesFromTheNextPassOn() throws Exception {
        try (Model m = Model.load(GEMMA3, LoadOptions.defaults())) {
            KvPool pool = m.kvPool();
            KvCache a = m.newCache();
            run(m, a, 40);
            long held = a.bytes();
            long allocated = pool.allocatedBytes();
            assertThat(pool.usedBytes()).isEqualTo(held);
            a.free();
            assertThat(pool.usedBytes()).as("not before a pass has started").isEqualTo(held);
            KvCache b = m.newCache();
            run(m, b, 40);
            assertThat(b.bytes()).isEqualTo(held);
            // b took a's pages back: nothing new was allocated, and only b's pages are in use
            assertThat(pool.allocatedBytes()).isEqualTo(allocated);
            assertThat(pool.usedBytes()).isEqualTo(held);
            a.free(); // a second free gives nothing twice
            run(m, b, 1);
            assertThat(pool.usedBytes()).isEqualTo(b.bytes());
        }
    }

    @Test
    void shouldFinishAPassPlannedBeforeItsCacheWasFreed() throws Exception {
        try (Model m = Model.load(GEMMA3, LoadOptions.defaults())) {
            KvPool pool = m.kvPool();
            KvCache kept = m.newCache();
            KvCache freed = m.newCache();
            run(m, kept, 30);
            run(m, freed, 30);
            freed.free();
            // the pass below was planned with the freed cache: it runs, and its pages stay until a later pass
            int[] ids = {5, 9};
            float[] x = new float[2 * m.config().dim()];
            m.embed(ids, 0, 2, x);
            m.forward(new Batch().add(kept, ids, 0, 1).add(freed, ids, 1, 1), x);
            assertThat(pool.usedBytes()).isEqualTo(kept.bytes() + freed.bytes());
            run(m, kept, 1);
            assertThat(pool.usedBytes()).isEqualTo(kept.bytes());
        }
    }
}
