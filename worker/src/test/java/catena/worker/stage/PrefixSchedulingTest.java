package catena.worker.stage;

import static org.assertj.core.api.Assertions.assertThat;

import catena.worker.engine.BlockBudget;
import catena.worker.engine.SequenceCache;
import catena.worker.engine.ToyEngine;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scheduler with a prefix cache over a toy engine: hits, eviction, misses, and every block back. */
class PrefixSchedulingTest {
    private final ToyEngine engine = new ToyEngine(0, 4, 4, 97, 1024, 0);

    /** Blocks of 4 tokens, 512 bytes each. */
    private BlockBudget budget(int blocks) {
        return new BlockBudget(engine, 512L * blocks, 4, engine.kvBytesPerToken(), true);
    }

    private static int[] prompt(int first, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = (first + i) % 90 + 1;
        }
        return p;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Runs a pass on the toy engine and reports what it wrote, as the stage actor does. */
    private void compute(StageScheduler.Pass<String> pass, BlockBudget kv) {
        var caches = new SequenceCache[pass.entries().size()];
        int[] counts = new int[caches.length];
        for (int i = 0; i < caches.length; i++) {
            caches[i] = pass.entries().get(i).sequence().cache();
            counts[i] = pass.entries().get(i).rows();
        }
        float[] x = new float[pass.rows() * ToyEngine.DIM];
        engine.embed(pass.tokens(), pass.rows(), x);
        engine.forward(caches, counts, caches.length, pass.tokens(), x);
        for (int i = 0, off = 0; i < caches.length; off += counts[i], i++) {
            kv.wrote(caches[i], pass.tokens(), off, counts[i]);
        }
    }

    private void runAll(StageScheduler<String> s, BlockBudget kv) {
        for (var pass = s.nextFirstPass(); !pass.isEmpty(); pass = s.nextFirstPass()) {
            compute(pass, kv);
        }
    }

    @Test
    void shouldStartALaterPromptAfterItsCachedBlocksWhenAnEarlierOneComputedThem() {
        BlockBudget kv = budget(100);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        int[] system = prompt(0, 12);
        s.offer(1, "a", concat(system, prompt(50, 3)));
        runAll(s, kv);
        assertThat(kv.prefixStats().cachedBlocks()).isEqualTo(3);
        t.free(1);
        assertThat(kv.prefixStats().idleBlocks()).isEqualTo(3);
        assertThat(kv.freeBlocks()).isEqualTo(100);

        s.offer(2, "b", concat(system, prompt(70, 5)));
        // admitted at once, but attached only when a pass is planned (none runs then)
        assertThat(t.get(2).admitted()).isTrue();
        assertThat(t.get(2).cache().length()).isZero();
        assertThat(kv.prefixStats().queries()).isEqualTo(1);
        var pass = s.nextFirstPass();
        assertThat(pass.entries()).hasSize(1);
        var e = pass.entries().getFirst();
        assertThat(e.cachedPrefix()).isEqualTo(12);
        assertThat(e.rows()).isEqualTo(5);
        assertThat(e.first()).isTrue();
        assertThat(e.sequence().cache().length()).isEqualTo(12);
        compute(pass, kv); // the toy engine checks every row's position against the cache
        assertThat(kv.prefixStats().hitTokens()).isEqualTo(12);
        assertThat(kv.prefixStats().queries()).isEqualTo(2);
        // 3 cached blocks used by b, 2 of its own (positions 12..16 and 16)
        assertThat(kv.freeBlocks()).isEqualTo(100 - 3 - 2);
    }

    @Test
    void shouldLeaveTheLastTokenToComputeWhenTheWholePromptIsCached() {
        BlockBudget kv = budget(100);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "a", prompt(0, 8));
        runAll(s, kv);
        t.free(1);
        s.offer(2, "b", prompt(0, 8));
        var e = s.nextFirstPass().entries().getFirst();
        assertThat(e.cachedPrefix()).isEqualTo(4);
        assertThat(e.rows()).isEqualTo(4);
        assertThat(e.sample()).isTrue();
    }

    @Test
    void shouldIgnoreTheCacheWhenTheSequenceMayNotUseIt() {
        BlockBudget kv = budget(100);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "a", prompt(0, 9));
        runAll(s, kv);
        s.offer(2, "b", prompt(0, 9), false);
        var e = s.nextFirstPass().entries().getFirst();
        assertThat(e.cachedPrefix()).isZero();
        assertThat(e.rows()).isEqualTo(9);
    }

    @Test
    void shouldEvictIdleBlocksOnlyWhenAReservationNeedsTheirRoom() {
        BlockBudget kv = budget(6);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "a", prompt(0, 16));
        runAll(s, kv);
        t.free(1);
        assertThat(kv.prefixStats().cachedBlocks()).isEqualTo(4);
        assertThat(engine.sharedBlocks()).isEqualTo(4);
        s.offer(2, "b", prompt(40, 12)); // 3 blocks: 2 free, 1 evicted
        runAll(s, kv);
        assertThat(kv.prefixStats().evictions()).isEqualTo(1);
        // the prompt's last block went first: its start is still cached
        assertThat(kv.cachedPrefix(prompt(0, 13), 13)).isEqualTo(12);
    }

    @Test
    void shouldGiveBackEveryBlockAndReferenceAfterCancelPreemptionAndClear() {
        BlockBudget kv = budget(8);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        int[] system = prompt(0, 8);
        s.offer(1, "a", concat(system, prompt(30, 1)));
        runAll(s, kv);
        s.offer(2, "b", concat(system, prompt(40, 1)));
        s.offer(3, "c", concat(system, prompt(50, 1)));
        runAll(s, kv);
        assertThat(t.get(3).cachedPrefix).isEqualTo(8);
        // decoding needs more blocks than are free: the youngest (c, holding shared blocks) is preempted
        for (long id = 1; id <= 3; id++) {
            t.get(id).addPending(new int[] {7, 8, 9, 10, 11, 12, 13, 14}, 0, 8);
        }
        var pass = s.nextFirstPass();
        assertThat(pass.preempted()).extracting(q -> q.id).contains(3L);
        compute(pass, kv);
        t.free(2); // a cancel
        t.clear(); // a re-plan
        assertThat(t.size()).isZero();
        assertThat(kv.freeBlocks()).isEqualTo(8);
        assertThat(kv.prefixStats().idleBlocks()).isEqualTo(kv.prefixStats().cachedBlocks());
        kv.evictIdle();
        assertThat(kv.prefixStats().cachedBlocks()).isZero();
        assertThat(engine.sharedBlocks()).isZero();
        assertThat(engine.freedCaches()).isEqualTo(3);
    }

    @Test
    void shouldAttachOnALaterStageWhatStageZeroAttached() {
        BlockBudget kv = budget(100);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        int[] p1 = prompt(0, 9);
        var a = t.add(1, "a");
        var pass = s.reserveArrived(List.of(new StageScheduler.Entry<>(a, 9, true, true)));
        for (var e : pass.entries()) {
            e.sequence().cache();
        }
        // the rows are computed: the toy cache advances, then the stage reports them
        float[] x = new float[9 * ToyEngine.DIM];
        engine.embed(p1, 9, x);
        new ToyEngine(0, 1, 4, 97, 1024, 0).forward(new SequenceCache[] {a.cache()}, new int[] {9}, 1, p1, x);
        kv.wrote(a.cache(), p1, 0, 9);
        var b = t.add(2, "b");
        int[] p2 = concat(prompt(0, 8), prompt(60, 2));
        var next = s.reserveArrived(List.of(new StageScheduler.Entry<>(b, 2, true, true, p2, 8)));
        assertThat(next.entries()).hasSize(1);
        assertThat(next.missed()).isEmpty();
        assertThat(b.cache().length()).isEqualTo(8);
        assertThat(b.cachedPrefix).isEqualTo(8);
    }

    @Test
    void shouldFreeAndReportASequenceWhosePrefixALaterStageNoLongerHolds() {
        BlockBudget kv = budget(100);
        SequenceTable<String> t = new SequenceTable<>(kv);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        var b = t.add(2, "b");
        var pass = s.reserveArrived(List.of(new StageScheduler.Entry<>(b, 2, true, true, prompt(0, 10), 8)));
        assertThat(pass.entries()).isEmpty();
        assertThat(pass.missed()).extracting(q -> q.id).containsExactly(2L);
        assertThat(t.get(2)).isNull();
        assertThat(t.wasFreed(2)).isTrue();
        assertThat(kv.prefixStats().misses()).isEqualTo(1);
        assertThat(kv.freeBlocks()).isEqualTo(100);
    }
}
