package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Shared KV blocks (the prefix cache's storage): a cache that attaches the pages another computed
 * gives the same logits, bit for bit, as one that computes them, while other caches take and give
 * back pages around it; a shared page is never reused while anyone holds it; and when every cache
 * and block lets go, every page is free again.
 */
class KvBlockTest {
    private static final int SYSTEM = 40;
    private static final int N = 70;

    private static int[] tokens(Random rnd, int[] prefix, int n, int vocab) {
        int[] t = new int[n];
        System.arraycopy(prefix, 0, t, 0, prefix.length);
        for (int i = prefix.length; i < n; i++) {
            t[i] = 10 + rnd.nextInt(vocab - 10);
        }
        return t;
    }

    /** Runs tokens[from, to) of one cache in passes of {@code chunk}, returning the logits of each row. */
    private static float[] run(Model m, KvCache cache, int[] tokens, int from, int to, int chunk) {
        int dim = m.config().dim();
        int vocab = m.config().vocabSize();
        float[] out = new float[(to - from) * vocab];
        float[] x = new float[chunk * dim];
        float[] logits = new float[vocab];
        for (int at = from; at < to; at += chunk) {
            int n = Math.min(chunk, to - at);
            m.embed(tokens, at, n, x);
            m.forward(new Batch().add(cache, tokens, at, n), x);
            for (int r = 0; r < n; r++) {
                m.logits(x, r, logits);
                System.arraycopy(logits, 0, out, (at - from + r) * vocab, vocab);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} kv {1}")
    @CsvSource({"tiny/tiny-gemma3-f32.gguf, F32", "tiny/tiny-gemma2-f32.gguf, F32", "tiny/tiny-llama-f32.gguf, F32",
        "tiny/tiny-gemma4-f32.gguf, F32", "tiny/tiny-gemma3-q8_0.gguf, F32", "tiny/tiny-gemma3-f32.gguf, Q8_0",
        "tiny/tiny-gemma3-f32.gguf, F16"})
    void shouldGiveTheComputedLogitsWhenACacheAttachesBlocksAnotherComputed(String file, KvType type) throws Exception {
        Path path = Fixtures.file(file);
        LoadOptions options = LoadOptions.keepF32(file.contains("f32")).kvType(type);
        try (Model m = Model.load(path, options)) {
            int vocab = m.config().vocabSize();
            Random rnd = new Random(3);
            int[] system = tokens(rnd, new int[0], SYSTEM, vocab);
            int[] a = tokens(rnd, system, N, vocab);
            int[] b = tokens(rnd, system, N, vocab);
            float[] reference = Runs.teacherForced(path, options, b, 5);

            KvCache ca = m.newCache();
            // shared right after the pass that completes them, as the prefix cache does (a sliding
            // layer gives back pages behind its window as the sequence goes on)
            run(m, ca, a, 0, 35, 7);
            KvBlock first = ca.share(0, 16);
            KvBlock second = ca.share(16, 16);
            run(m, ca, a, 35, N, 7);
            ca.free();
            // another sequence takes the pages a freed: a shared page handed out again would be overwritten
            KvCache other = m.newCache();
            run(m, other, tokens(rnd, new int[0], N, vocab), 0, N, 9);

            KvCache cb = m.newCache();
            cb.attach(List.of(first, second), 32);
            assertThat(cb.length()).isEqualTo(32);
            float[] got = run(m, cb, b, 32, N, 6);
            for (int k = 0; k < got.length; k++) {
                assertThat(got[k]).as("%s kv %s pos %d id %d", file, type, 32 + k / vocab, k % vocab)
                        .isEqualTo(reference[32 * vocab + k]);
            }
            cb.free();
            other.free();
            first.release();
            second.release();
            m.kvPool().settleIdle();
            assertThat(m.kvPool().usedPages()).as("pages still held").isZero();
        }
    }

    @Test
    void shouldHoldASharedPageUntilItsLastHolderLetsGo() throws Exception {
        Path path = Fixtures.file("tiny/tiny-llama-f32.gguf");
        try (Model m = Model.load(path, LoadOptions.keepF32(true))) {
            int vocab = m.config().vocabSize();
            int[] t = tokens(new Random(5), new int[0], 20, vocab);
            KvCache c = m.newCache();
            run(m, c, t, 0, 20, 20);
            int held = m.kvPool().usedPages();
            KvBlock block = c.share(0, 16);
            int page = block.keys[0][0];
            assertThat(m.kvPool().refCount(page)).isEqualTo(2);
            KvCache d = m.newCache();
            d.attach(List.of(block), 16);
            assertThat(m.kvPool().refCount(page)).isEqualTo(3);
            c.free();
            block.release();
            m.kvPool().settleIdle();
            assertThat(m.kvPool().refCount(page)).isEqualTo(1);
            // d holds exactly the shared block's pages: one per layer for keys and one for values
            assertThat(m.kvPool().usedPages()).isEqualTo(2 * m.config().layerCount()).isLessThan(held);
            d.free();
            m.kvPool().settleIdle();
            assertThat(m.kvPool().usedPages()).isZero();
        }
    }

    @Test
    void shouldAttachOnlyThePagesASlidingLayersNextPositionAttends() throws Exception {
        Path path = Fixtures.file("tiny/tiny-gemma3-f32.gguf");
        try (Model m = Model.load(path, LoadOptions.keepF32(true))) {
            int vocab = m.config().vocabSize();
            int[] t = tokens(new Random(6), new int[0], 64, vocab);
            KvCache c = m.newCache();
            run(m, c, t, 0, 64, 64);
            List<KvBlock> blocks = List.of(c.share(0, 16), c.share(16, 16), c.share(32, 16), c.share(48, 16));
            KvCache d = m.newCache();
            d.attach(blocks, 64);
            int sliding = 0;
            int global = 0;
            for (int l = 0; l < m.config().layerCount(); l++) {
                if (m.config().layer(l).sliding()) {
                    sliding++;
                } else {
                    global++;
                }
            }
            // window 24 at position 64 attends 41..63: pages 2 and 3 of a sliding layer, all 4 of a global one
            long perPage = 2 * m.kvPool().type().pageBytes(m.config().layer(0).kvDim());
            assertThat(sliding).isPositive();
            assertThat(d.bytes()).isEqualTo(perPage * (2L * sliding + 4L * global));
        }
    }

    @Test
    void shouldRefuseToAttachToACacheThatHoldsPositions() throws Exception {
        Path path = Fixtures.file("tiny/tiny-llama-f32.gguf");
        try (Model m = Model.load(path, LoadOptions.keepF32(true))) {
            int[] t = tokens(new Random(7), new int[0], 20, m.config().vocabSize());
            KvCache c = m.newCache();
            run(m, c, t, 0, 20, 20);
            KvBlock block = c.share(0, 16);
            assertThatThrownBy(() -> c.attach(List.of(block), 16))
                    .hasMessage("attach to a cache of length 20, expected an empty one");
            assertThatThrownBy(() -> c.share(8, 16))
                    .hasMessage("share of positions [8, 24): expected whole pages of 16 below the length 20");
        }
    }
}
