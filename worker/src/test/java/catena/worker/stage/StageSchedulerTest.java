package catena.worker.stage;

import static org.assertj.core.api.Assertions.assertThat;

import catena.worker.engine.BlockBudget;
import catena.worker.engine.ToyEngine;
import java.util.List;
import org.junit.jupiter.api.Test;

class StageSchedulerTest {
    /** A 4-layer toy stage; one token costs 128 bytes, a block of 4 tokens 512. */
    private static SequenceTable<String> table(int blocks) {
        ToyEngine engine = new ToyEngine(0, 4, 4, 97, 1024, 0);
        return new SequenceTable<>(new BlockBudget(engine, 512L * blocks, 4, engine.kvBytesPerToken()));
    }

    private static int[] prompt(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i % 90 + 1;
        }
        return p;
    }

    /** Marks a pass's rows as computed, as the engine would (the cache advances). */
    private static void compute(StageScheduler.Pass<String> pass) {
        ToyEngine engine = new ToyEngine(0, 4, 4, 97, 1024, 0);
        var caches = new catena.worker.engine.SequenceCache[pass.entries().size()];
        int[] counts = new int[caches.length];
        for (int i = 0; i < caches.length; i++) {
            caches[i] = pass.entries().get(i).sequence().cache();
            counts[i] = pass.entries().get(i).rows();
        }
        float[] x = new float[pass.rows() * ToyEngine.DIM];
        engine.embed(pass.tokens(), pass.rows(), x);
        engine.forward(caches, counts, caches.length, pass.tokens(), x);
    }

    @Test
    void shouldSpreadALongPromptOverPassesWithinTheTokenBudgetBesideDecodingRows() {
        SequenceTable<String> t = table(1000);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(16, 1000, 0, 10));
        s.offer(1, "a", prompt(3));
        compute(s.nextFirstPass());
        t.get(1).addPending(new int[] {5}, 0, 1);
        s.offer(2, "b", prompt(40));
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        assertThat(pass.entries()).hasSize(2);
        assertThat(pass.entries().get(0).rows()).isEqualTo(1);
        assertThat(pass.entries().get(0).sample()).isTrue();
        assertThat(pass.entries().get(1).rows()).isEqualTo(15);
        assertThat(pass.entries().get(1).sample()).isFalse();
        assertThat(pass.entries().get(1).first()).isTrue();
        assertThat(pass.rows()).isEqualTo(16);
        compute(pass);
        StageScheduler.Pass<String> next = s.nextFirstPass();
        assertThat(next.entries().getFirst().rows()).isEqualTo(16);
        assertThat(next.entries().getFirst().first()).isFalse();
    }

    @Test
    void shouldTakeAtMostRatioPromptRowsPerDecodingRowWhileSequencesDecode() {
        SequenceTable<String> t = table(1000);
        // Blocks of 4 positions; 2 prompt rows per decoding row; 256 rows a pass otherwise.
        var s = new StageScheduler<>(t, new StageScheduler.Settings(256, 1000, 0, 20, 2));
        for (int id = 1; id <= 6; id++) {
            s.offer(id, "d" + id, prompt(3));
        }
        compute(s.nextFirstPass());
        for (int id = 1; id <= 6; id++) {
            t.get(id).addPending(new int[] {5}, 0, 1);
        }
        s.offer(7, "long", prompt(100));
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        // Six decoding rows, then 2 x 6 = 12 prompt rows.
        assertThat(pass.entries()).hasSize(7);
        assertThat(pass.entries().getLast().rows()).isEqualTo(12);
        assertThat(pass.rows()).isEqualTo(18);
        compute(pass);
        // With nobody decoding the prompt takes the whole budget.
        for (int id = 1; id <= 6; id++) {
            t.free(id);
        }
        assertThat(s.nextFirstPass().entries().getFirst().rows()).isEqualTo(88);
    }

    @Test
    void shouldGiveThePromptAtLeastOneBlockBesideFewDecodingRows() {
        StageScheduler.Settings settings = new StageScheduler.Settings(256, 1000, 0, 20, 2);
        assertThat(settings.prefillBudget(1, 16)).isEqualTo(16);
        assertThat(settings.prefillBudget(8, 16)).isEqualTo(16);
        assertThat(settings.prefillBudget(20, 16)).isEqualTo(40);
        assertThat(settings.prefillBudget(0, 16)).isEqualTo(256);
        // The token budget still caps it; ratio 0 leaves only the token budget.
        assertThat(settings.prefillBudget(120, 16)).isEqualTo(136);
        assertThat(new StageScheduler.Settings(256, 1000, 0, 20, 0).prefillBudget(8, 16)).isEqualTo(248);
    }

    @Test
    void shouldRefuseAPromptThatCanNeverFitAndQueueBeyondTheWaitingLimit() {
        SequenceTable<String> t = table(4);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 4, 1));
        assertThat(s.offer(1, "a", prompt(13))).isEqualTo(StageScheduler.Admission.TOO_LARGE);
        // b takes all 4 blocks at once; c waits for them; d finds the one waiting place taken.
        assertThat(s.offer(2, "b", prompt(12))).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(s.offer(3, "c", prompt(4))).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(s.offer(4, "d", prompt(4))).isEqualTo(StageScheduler.Admission.QUEUE_FULL);
    }

    @Test
    void shouldCountOnlySequencesWithoutRoomAgainstTheQueueBoundWhenABurstArrives() {
        // 12 blocks of 4: three 12-token prompts (+4 reserve = 4 blocks each) fit at once.
        SequenceTable<String> t = table(12);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 4, 1));
        for (int id = 1; id <= 3; id++) {
            assertThat(s.offer(id, "s" + id, prompt(12))).isEqualTo(StageScheduler.Admission.QUEUED);
        }
        assertThat(t.waiting()).isZero();
        assertThat(s.offer(4, "s4", prompt(12))).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(t.waiting()).isEqualTo(1);
        assertThat(s.offer(5, "s5", prompt(12))).isEqualTo(StageScheduler.Admission.QUEUE_FULL);
    }

    @Test
    void shouldAdmitOnlyWhatFitsBesideAdmittedPromptsAndKeepTheRestWaiting() {
        SequenceTable<String> t = table(6);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 4, 10));
        s.offer(1, "a", prompt(8));
        s.offer(2, "b", prompt(8));
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        // a needs 3 blocks (8 + 4 reserve), b 3 more: both fit 6.
        assertThat(pass.entries()).hasSize(2);
        s.offer(3, "c", prompt(8));
        compute(pass);
        assertThat(s.nextFirstPass().isEmpty()).isTrue();
        assertThat(t.waiting()).isEqualTo(1);
        t.free(1);
        assertThat(s.nextFirstPass().entries()).extracting(e -> e.sequence().id).containsExactly(3L);
    }

    @Test
    void shouldPreemptTheYoungestSequenceWhenBlocksRunOutWhileDecoding() {
        SequenceTable<String> t = table(4);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "old", prompt(8));
        s.offer(2, "young", prompt(8));
        compute(s.nextFirstPass());
        assertThat(t.kv().freeBlocks()).isZero();
        t.get(1).addPending(new int[] {7}, 0, 1);
        t.get(2).addPending(new int[] {7}, 0, 1);
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        assertThat(pass.preempted()).extracting(q -> q.id).containsExactly(2L);
        assertThat(pass.entries()).extracting(e -> e.sequence().id).containsExactly(1L);
        assertThat(pass.tokens()).containsExactly(7);
        assertThat(t.get(2)).isNull();
        assertThat(t.wasFreed(2)).isTrue();
        assertThat(s.preemptions()).isEqualTo(1);
    }

    @Test
    void shouldPreemptOnALaterStageAndDropThePreemptedRows() {
        SequenceTable<String> t = table(2);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        var a = t.add(1, "a");
        var b = t.add(2, "b");
        StageScheduler.Pass<String> pass = s.reserveArrived(List.of(new StageScheduler.Entry<>(a, 4, true, true),
                new StageScheduler.Entry<>(b, 8, true, true)));
        // a takes 1 block; b needs 2 of the 1 left: b is the youngest, so b itself is preempted.
        assertThat(pass.entries()).extracting(e -> e.sequence().id).containsExactly(1L);
        assertThat(pass.preempted()).extracting(q -> q.id).containsExactly(2L);
        assertThat(pass.rows()).isEqualTo(4);
    }

    @Test
    void shouldReturnEveryBlockWhenSequencesAreFreedOrCleared() {
        SequenceTable<String> t = table(10);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "a", prompt(9));
        s.offer(2, "b", prompt(5));
        compute(s.nextFirstPass());
        assertThat(t.kv().freeBlocks()).isEqualTo(5);
        t.free(1);
        assertThat(t.kv().freeBlocks()).isEqualTo(8);
        t.clear();
        assertThat(t.kv().freeBlocks()).isEqualTo(10);
        assertThat(t.size()).isZero();
    }

    @Test
    void shouldQueueAResumedSequenceAheadOfNewOnesWhenTheQueueIsFull() {
        // 10 blocks of 4 tokens; at most one new sequence may wait.
        SequenceTable<String> t = table(10);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 1));
        assertThat(s.offer(1, "running", prompt(36))).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(t.get(1).admitted()).isTrue();
        assertThat(s.offer(2, "new, waits", prompt(32))).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(s.offer(3, "new, refused", prompt(4))).isEqualTo(StageScheduler.Admission.QUEUE_FULL);
        // a preempted stream comes back with its prompt and the tokens it has streamed
        assertThat(s.offer(4, "resumed", prompt(16), true, true)).isEqualTo(StageScheduler.Admission.QUEUED);
        assertThat(t.get(4).admitted()).isFalse();

        t.free(1);
        s.nextFirstPass();
        assertThat(t.get(4).admitted()).as("the resumed one goes first").isTrue();
        assertThat(t.get(2).admitted()).as("8 blocks do not fit in the 6 left").isFalse();
    }

    @Test
    void shouldPreemptAFreshSequenceBeforeAResumedOneWhenBlocksRunOut() {
        SequenceTable<String> t = table(4);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "fresh, older", prompt(8));
        compute(s.nextFirstPass());
        s.offer(2, "resumed, admitted last", prompt(8), true, true);
        compute(s.nextFirstPass());
        assertThat(t.youngest().id).as("a resumed sequence is the last victim").isEqualTo(1L);
        assertThat(t.kv().freeBlocks()).isZero();
        t.get(1).addPending(new int[] {7}, 0, 1);
        t.get(2).addPending(new int[] {7}, 0, 1);
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        assertThat(pass.preempted()).extracting(q -> q.id).containsExactly(1L);
        assertThat(pass.entries()).extracting(e -> e.sequence().id).containsExactly(2L);
    }

    @Test
    void shouldRejectRatherThanPreemptASequenceThatOutgrowsTheWholeBudget() {
        // 4 blocks of 4 tokens: a 12-token prompt fits; at 16 positions a 17th cannot, however many are preempted.
        SequenceTable<String> t = table(4);
        var s = new StageScheduler<>(t, new StageScheduler.Settings(64, 1000, 0, 10));
        s.offer(1, "other", prompt(2));
        s.offer(2, "long", prompt(12));
        compute(s.nextFirstPass());
        t.get(2).addPending(new int[] {7, 8, 9, 10, 11}, 0, 5);
        StageScheduler.Pass<String> pass = s.nextFirstPass();
        assertThat(pass.tooLarge()).extracting(q -> q.id).containsExactly(2L);
        assertThat(pass.preempted()).as("nothing is preempted for it").isEmpty();
        assertThat(t.get(2)).isNull();
        assertThat(t.get(1).admitted()).isTrue();
    }
}
