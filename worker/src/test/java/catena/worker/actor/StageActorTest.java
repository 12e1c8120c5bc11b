package catena.worker.actor;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.sample.SamplingParams;
import catena.worker.actor.SequenceEvent.EndReason;
import catena.worker.actor.SequenceEvent.TokenSampled;
import catena.worker.engine.StageEngineFactory;
import catena.worker.engine.ToyEngine;
import catena.worker.plan.StagePlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StageActorTest {
    private static final int LAYERS = 4;
    private static final int VOCAB = 97;
    private static final ActorTestKit KIT = ActorTestKit.create();
    private static long nextSequenceId = 1;

    @AfterAll
    static void shutdown() {
        KIT.shutdownTestKit();
    }

    /** Spawns and loads a ring of {@code stages} toy stages; returns them in order. */
    private static List<ActorRef<StageActor.Command>> ring(int stages, StageEngineFactory engines) {
        List<ActorRef<StageActor.Command>> refs = new ArrayList<>();
        for (int i = 0; i < stages; i++) {
            refs.add(KIT.spawn(StageActor.create(engines)));
        }
        int[] bounds = StagePlan.split(new long[] {1, 1, 1, 1}, stages);
        TestProbe<StageActor.LoadReply> loaded = KIT.createTestProbe();
        for (int i = 0; i < stages; i++) {
            refs.get(i).tell(new StageActor.Load("toy.gguf", false, i, stages, bounds[i], bounds[i + 1],
                    refs.get((i + 1) % stages), loaded.getRef()));
        }
        for (int i = 0; i < stages; i++) {
            assertThat(loaded.receiveMessage()).isInstanceOf(StageActor.StageLoaded.class);
        }
        return refs;
    }

    private static int[] expected(int[] prompt, int maxTokens) {
        int[] out = new int[maxTokens];
        int token = prompt[prompt.length - 1];
        int position = prompt.length - 1;
        for (int i = 0; i < maxTokens; i++) {
            token = ToyEngine.next(token, position + i, LAYERS, VOCAB);
            out[i] = token;
        }
        return out;
    }

    private static StageActor.Start start(long id, int[] prompt, int maxTokens, TestProbe<SequenceEvent> sink) {
        return new StageActor.Start(id, prompt, SamplingParams.GREEDY, maxTokens, new int[0], -1, sink.getRef());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void shouldGenerateTheModelsTokensThroughEveryRingLength(int stages) {
        var refs = ring(stages, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] prompt = {3, 14, 15, 92, 65};
        long id = nextSequenceId++;
        refs.get(0).tell(start(id, prompt, 10, sink));
        int[] got = new int[10];
        for (int i = 0; i < 10; i++) {
            TokenSampled t = sink.expectMessageClass(TokenSampled.class);
            assertThat(t.step()).isEqualTo(i);
            assertThat(t.end()).isEqualTo(i == 9 ? EndReason.LENGTH : EndReason.NONE);
            got[i] = t.token();
        }
        assertThat(got).containsExactly(expected(prompt, 10));
        sink.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void shouldStopAtAnEndTokenWhenTheModelProducesOne() {
        var refs = ring(2, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] prompt = {1, 2};
        int[] want = expected(prompt, 5);
        refs.get(0).tell(new StageActor.Start(nextSequenceId++, prompt, SamplingParams.GREEDY, 50,
                new int[] {want[2]}, -1, sink.getRef()));
        sink.expectMessageClass(TokenSampled.class);
        sink.expectMessageClass(TokenSampled.class);
        TokenSampled third = sink.expectMessageClass(TokenSampled.class);
        assertThat(third.token()).isEqualTo(want[2]);
        assertThat(third.end()).isEqualTo(EndReason.EOS);
        sink.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void shouldBatchManySequencesIntoOneForwardPassWhenTheyArriveTogether() {
        var refs = ring(2, ToyEngine.factory(LAYERS, VOCAB, 256, 5));
        List<TestProbe<SequenceEvent>> sinks = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            TestProbe<SequenceEvent> sink = KIT.createTestProbe();
            int[] prompt = {s + 1, 2 * s + 3, 5};
            sinks.add(sink);
            prompts.add(prompt);
            refs.get(0).tell(start(nextSequenceId++, prompt, 8, sink));
        }
        for (int s = 0; s < 12; s++) {
            int[] want = expected(prompts.get(s), 8);
            for (int i = 0; i < 8; i++) {
                assertThat(sinks.get(s).expectMessageClass(TokenSampled.class).token()).isEqualTo(want[i]);
            }
        }
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        for (var ref : refs) {
            ref.tell(new StageActor.GetStats(stats.getRef()));
            StageActor.StageStats st = stats.receiveMessage();
            assertThat(st.multiSequenceBatches()).as("batches with > 1 sequence on stage %d", st.stageIndex())
                    .isPositive();
            assertThat(st.maxBatchSequences()).isGreaterThan(1);
            assertThat(st.rows()).isEqualTo(12 * (3 + 7));
        }
    }

    @Test
    void shouldDropTheKvCacheOnEveryStageWhenFreed() {
        var refs = ring(3, ToyEngine.factory(LAYERS, VOCAB, 4096, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        long id = nextSequenceId++;
        refs.get(0).tell(start(id, new int[] {1, 2, 3}, 1000, sink));
        sink.expectMessageClass(TokenSampled.class);
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        for (var ref : refs) {
            ref.tell(new StageActor.GetStats(stats.getRef()));
            StageActor.StageStats st = stats.receiveMessage();
            assertThat(st.sequences()).isEqualTo(1);
            assertThat(st.cacheBytes()).isPositive();
        }
        for (var ref : refs) {
            ref.tell(new StageActor.Free(id));
        }
        for (var ref : refs) {
            ref.tell(new StageActor.GetStats(stats.getRef()));
            StageActor.StageStats st = stats.receiveMessage();
            assertThat(st.sequences()).isZero();
            assertThat(st.cacheBytes()).isZero();
        }
        sink.receiveSeveralMessages(0);
    }

    @Test
    void shouldHoldTheRingWhileThrottledAndResumeWhenReleased() {
        // 20 ms per forward pass: the pause reaches the last stage long before the third token.
        var refs = ring(2, ToyEngine.factory(LAYERS, VOCAB, 256, 20));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        long id = nextSequenceId++;
        int[] prompt = {9, 8};
        refs.get(0).tell(start(id, prompt, 6, sink));
        TokenSampled first = sink.expectMessageClass(TokenSampled.class);
        // The second token is already on its way around the ring; the third must wait.
        refs.get(1).tell(new StageActor.Throttle(id, true));
        List<Integer> got = new ArrayList<>(List.of(first.token()));
        TokenSampled t = sink.expectMessageClass(TokenSampled.class);
        got.add(t.token());
        sink.expectNoMessage(Duration.ofMillis(200));
        refs.get(1).tell(new StageActor.Throttle(id, false));
        for (int i = got.size(); i < 6; i++) {
            got.add(sink.expectMessageClass(TokenSampled.class).token());
        }
        assertThat(got).containsExactly(java.util.Arrays.stream(expected(prompt, 6)).boxed().toArray(Integer[]::new));
    }
}
