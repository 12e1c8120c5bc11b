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

    private static final long EPOCH = 3;

    private static StageActor.Settings settings(long kvBytes) {
        return new StageActor.Settings(kvBytes, 4, 64, 0, 0, 64, 1L << 30, 1, 0,
                java.util.concurrent.Executors.newSingleThreadExecutor());
    }

    /** Spawns and assigns a ring of {@code stages} toy stages; returns them in order. */
    private static List<ActorRef<StageActor.Command>> ring(int stages, StageEngineFactory engines) {
        return ring(stages, engines, 1L << 30);
    }

    private static List<ActorRef<StageActor.Command>> ring(int stages, StageEngineFactory engines, long kvBytes) {
        List<ActorRef<StageActor.Command>> refs = new ArrayList<>();
        for (int i = 0; i < stages; i++) {
            refs.add(KIT.spawn(StageActor.create(engines, settings(kvBytes))));
        }
        assign(refs, EPOCH);
        return refs;
    }

    private static void assign(List<ActorRef<StageActor.Command>> refs, long epoch) {
        int stages = refs.size();
        int[] bounds = StagePlan.split(new long[] {1, 1, 1, 1}, stages);
        TestProbe<StageActor.AssignReply> assigned = KIT.createTestProbe();
        for (int i = 0; i < stages; i++) {
            refs.get(i).tell(new StageActor.Assign("toy.gguf", false, 0, epoch, i, stages, bounds[i], bounds[i + 1],
                    refs.get((i + 1) % stages), assigned.getRef()));
        }
        for (int i = 0; i < stages; i++) {
            assertThat(assigned.receiveMessage()).isInstanceOf(StageActor.Assigned.class);
        }
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
        return new StageActor.Start(id, EPOCH, prompt, 0, SamplingParams.GREEDY, maxTokens, new int[0], -1,
                tokensOnly(sink));
    }

    private static final java.util.Map<TestProbe<SequenceEvent>, ActorRef<SequenceEvent>> FILTERS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A sink that passes everything but {@link SequenceEvent.SequenceProgress} on to {@code probe}: most
     * tests look at tokens and ends only (the progress tests use the probe itself).
     */
    private static ActorRef<SequenceEvent> tokensOnly(TestProbe<SequenceEvent> probe) {
        return FILTERS.computeIfAbsent(probe, p -> KIT.spawn(
                org.apache.pekko.actor.typed.javadsl.Behaviors.<SequenceEvent>receiveMessage(m -> {
                    if (!(m instanceof SequenceEvent.SequenceProgress)) {
                        p.getRef().tell(m);
                    }
                    return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
                })));
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
        refs.get(0).tell(new StageActor.Start(nextSequenceId++, EPOCH, prompt, 0, SamplingParams.GREEDY, 50,
                new int[] {want[2]}, -1, tokensOnly(sink)));
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

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void shouldSendEachPassTokensAsOneMessagePerRelayWhenSequencesNameARelay(int stages) {
        var refs = ring(stages, ToyEngine.factory(LAYERS, VOCAB, 256, 5));
        TestProbe<RelayedEvents> relayA = KIT.createTestProbe();
        TestProbe<RelayedEvents> relayB = KIT.createTestProbe();
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int n = 6;
        int tokens = 5;
        long first = nextSequenceId;
        List<StageActor.Start> starts = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            starts.add(new StageActor.Start(nextSequenceId++, EPOCH, new int[] {s + 1, 7}, 0, SamplingParams.GREEDY,
                    tokens, new int[0], -1, sink.getRef(), true, false, (s % 2 == 0 ? relayA : relayB).getRef()));
        }
        starts.forEach(refs.get(0)::tell);
        for (TestProbe<RelayedEvents> relay : List.of(relayA, relayB)) {
            java.util.Map<Long, List<Integer>> got = new java.util.HashMap<>();
            int messages = 0;
            boolean shared = false;
            while (got.values().stream().mapToInt(List::size).sum() < n / 2 * tokens) {
                List<TokenSampled> pass = relay.receiveMessage().events().stream()
                        .filter(TokenSampled.class::isInstance).map(TokenSampled.class::cast).toList();
                messages += pass.isEmpty() ? 0 : 1;
                shared |= pass.size() > 1;
                for (TokenSampled t : pass) {
                    List<Integer> seq = got.computeIfAbsent(t.sequenceId(), k -> new ArrayList<>());
                    assertThat(t.step()).isEqualTo(seq.size());
                    seq.add(t.token());
                }
            }
            assertThat(shared).as("some pass carried several sequences' tokens").isTrue();
            assertThat(messages).isLessThan(n / 2 * tokens);
            for (var e : got.entrySet()) {
                int s = (int) (e.getKey() - first);
                assertThat(s % 2).isEqualTo(relay == relayA ? 0 : 1);
                assertThat(e.getValue()).containsExactly(java.util.Arrays.stream(expected(new int[] {s + 1, 7}, tokens))
                        .boxed().toArray(Integer[]::new));
            }
        }
        sink.expectNoMessage(Duration.ofMillis(50)); // nothing went to a session on its own
    }

    @Test
    void shouldSendEveryEventOfARelayedSequenceThroughTheRelayWhenItNamesOne() {
        // An interruption must not overtake the tokens sent before it, so it takes their path.
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<RelayedEvents> relay = KIT.createTestProbe();
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        long id = nextSequenceId++;
        refs.get(0).tell(new StageActor.Start(id, EPOCH + 1, new int[] {1, 2}, 0, SamplingParams.GREEDY, 5,
                new int[0], -1, sink.getRef(), true, false, relay.getRef()));
        List<SequenceEvent> events = relay.receiveMessage().events();
        assertThat(events).hasSize(1);
        assertThat(events.getFirst()).isInstanceOf(SequenceEvent.SequenceInterrupted.class);
        assertThat(events.getFirst().sequenceId()).isEqualTo(id);
        sink.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void shouldRunEveryDecodingSequenceOfAOneStageRingInOnePassPerStep() {
        // A one-stage ring feeds its own tokens back: they must all join the next pass, not the
        // first of them alone (which would halve the batch on every other step).
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 256, 5));
        int n = 12;
        int tokens = 8;
        List<TestProbe<SequenceEvent>> sinks = new ArrayList<>();
        List<StageActor.Start> starts = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            TestProbe<SequenceEvent> sink = KIT.createTestProbe();
            sinks.add(sink);
            starts.add(start(nextSequenceId++, new int[] {s + 1, 7}, tokens, sink));
        }
        // Sent back to back (making the sinks takes time the stage would spend on passes).
        starts.forEach(refs.get(0)::tell);
        for (int s = 0; s < n; s++) {
            int[] want = expected(new int[] {s + 1, 7}, tokens);
            for (int i = 0; i < tokens; i++) {
                assertThat(sinks.get(s).expectMessageClass(TokenSampled.class).token()).isEqualTo(want[i]);
            }
        }
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        refs.get(0).tell(new StageActor.GetStats(stats.getRef()));
        StageActor.StageStats st = stats.receiveMessage();
        // One pass per step, plus at most one for starts that arrived while the first pass ran.
        assertThat(st.batches()).as("passes for %d sequences x %d tokens", n, tokens).isLessThanOrEqualTo(tokens + 1);
        assertThat(st.maxBatchSequences()).isEqualTo(n);
    }

    @Test
    void shouldWarmUpTheKernelsBeforeReportingAssignedAndStillGenerateTheModelsTokens() {
        java.util.concurrent.atomic.AtomicInteger passes = new java.util.concurrent.atomic.AtomicInteger();
        StageEngineFactory counting = (path, keepF32, from, to) -> new ToyEngine(from, to, LAYERS, VOCAB, 256, 0) {
            @Override
            public void forward(catena.worker.engine.SequenceCache[] caches, int[] counts, int size, int[] tokens,
                                float[] x) {
                passes.incrementAndGet();
                super.forward(caches, counts, size, tokens, x);
            }
        };
        ActorRef<StageActor.Command> stage = KIT.spawn(StageActor.create(counting,
                new StageActor.Settings(1L << 30, 4, 64, 0, 0, 64, 1L << 30, 1, 2,
                        java.util.concurrent.Executors.newSingleThreadExecutor())));
        assign(List.of(stage), EPOCH);
        // Assigned came back: the warm-up passes ran before it (2 rounds: prefill, decode, 2 batched).
        assertThat(passes.get()).isEqualTo(2 * 4);
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] prompt = {4, 8, 15};
        stage.tell(start(nextSequenceId++, prompt, 6, sink));
        int[] want = expected(prompt, 6);
        for (int i = 0; i < 6; i++) {
            assertThat(sink.expectMessageClass(TokenSampled.class).token()).isEqualTo(want[i]);
        }
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        stage.tell(new StageActor.GetStats(stats.getRef()));
        assertThat(stats.receiveMessage().batches()).as("warm-up passes are not counted as served").isEqualTo(6);
    }

    @Test
    void shouldDropTheKvCacheOnEveryStageWhenFreed() {
        List<ToyEngine> engines = new java.util.concurrent.CopyOnWriteArrayList<>();
        var refs = ring(3, (path, keepF32, from, to) -> {
            ToyEngine e = new ToyEngine(from, to, LAYERS, VOCAB, 4096, 0);
            engines.add(e);
            return e;
        });
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
        // each stage gave its cache back to the engine's pool (not merely forgot it)
        assertThat(engines).hasSize(3).allSatisfy(e -> assertThat(e.freedCaches()).isEqualTo(1));
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

    @Test
    void shouldContinueAtTheNextStepWhenResubmittedWithTheTokensSoFar() {
        var refs = ring(2, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] prompt = {4, 5, 6};
        int[] want = expected(prompt, 8);
        int[] resumed = {4, 5, 6, want[0], want[1], want[2]};
        refs.get(0).tell(new StageActor.Start(nextSequenceId++, EPOCH, resumed, 3, SamplingParams.GREEDY, 5,
                new int[0], -1, tokensOnly(sink)));
        for (int i = 3; i < 8; i++) {
            TokenSampled t = sink.expectMessageClass(TokenSampled.class);
            assertThat(t.step()).isEqualTo(i);
            assertThat(t.token()).isEqualTo(want[i]);
        }
    }

    @Test
    void shouldInterruptAndCountAStartOfAnotherEpoch() {
        var refs = ring(2, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        long id = nextSequenceId++;
        refs.get(0).tell(new StageActor.Start(id, EPOCH + 1, new int[] {1, 2}, 0, SamplingParams.GREEDY, 5,
                new int[0], -1, tokensOnly(sink)));
        var interrupted = sink.expectMessageClass(SequenceEvent.SequenceInterrupted.class);
        assertThat(interrupted.sequenceId()).isEqualTo(id);
        assertThat(interrupted.reason()).contains("epoch " + (EPOCH + 1));
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        refs.get(0).tell(new StageActor.GetStats(stats.getRef()));
        assertThat(stats.receiveMessage().staleDropped()).isEqualTo(1);
    }

    @Test
    void shouldRewireWithoutReloadingAndDropTheOldEpochsSequencesWhenReassigned() {
        var loads = new java.util.concurrent.atomic.AtomicInteger();
        StageEngineFactory counting = (path, f32, from, to) -> {
            loads.incrementAndGet();
            return new ToyEngine(from, to, LAYERS, VOCAB, 4096, 0);
        };
        var refs = ring(2, counting);
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        long id = nextSequenceId++;
        refs.get(0).tell(start(id, new int[] {1, 2, 3}, 1000, sink));
        sink.expectMessageClass(TokenSampled.class);
        assign(refs, EPOCH + 5);
        assertThat(loads.get()).isEqualTo(2);
        sink.fishForMessage(Duration.ofSeconds(3), m -> m instanceof SequenceEvent.SequenceInterrupted
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        for (var ref : refs) {
            ref.tell(new StageActor.GetStats(stats.getRef()));
            StageActor.StageStats st = stats.receiveMessage();
            assertThat(st.epoch()).isEqualTo(EPOCH + 5);
            assertThat(st.sequences()).isZero();
        }
    }

    @Test
    void shouldFailOnlyTheSequencesOfAPassThatThrowsAndKeepServing() {
        StageEngineFactory failing = (path, f32, from, to) -> new ToyEngine(from, to, LAYERS, VOCAB, 256, 0) {
            @Override
            public void forward(catena.worker.engine.SequenceCache[] caches, int[] counts, int size, int[] tokens,
                                float[] x) {
                for (int t : tokens) {
                    if (t == 66) {
                        throw new IllegalStateException("poisoned row");
                    }
                }
                super.forward(caches, counts, size, tokens, x);
            }
        };
        var refs = ring(1, failing);
        TestProbe<SequenceEvent> bad = KIT.createTestProbe();
        long badId = nextSequenceId++;
        refs.get(0).tell(start(badId, new int[] {66}, 3, bad));
        var failed = bad.expectMessageClass(SequenceEvent.SequenceFailed.class);
        assertThat(failed.reason()).contains("poisoned row").contains("error id");
        TestProbe<SequenceEvent> good = KIT.createTestProbe();
        int[] prompt = {2, 3};
        refs.get(0).tell(start(nextSequenceId++, prompt, 3, good));
        int[] want = expected(prompt, 3);
        for (int i = 0; i < 3; i++) {
            assertThat(good.expectMessageClass(TokenSampled.class).token()).isEqualTo(want[i]);
        }
    }

    @Test
    void shouldPreemptTheYoungestSequenceWhenKvMemoryRunsOut() {
        // 8 blocks of 4 tokens: two sequences of 12 prompt tokens fit (3 blocks each), then run out decoding.
        long perToken = 4L * 2 * ToyEngine.DIM * Float.BYTES;
        // No pass runs before both Starts are in: had the test thread stalled between the two tells
        // (CI saw it once), the older would have decoded past the room the younger's prompt needs,
        // the younger would only have been admitted after the older outgrew the whole budget, and
        // nothing would ever have been preempted.
        java.util.concurrent.CountDownLatch bothSent = new java.util.concurrent.CountDownLatch(1);
        StageEngineFactory gated = (path, f32, from, to) -> new ToyEngine(from, to, LAYERS, VOCAB, 4096, 0) {
            @Override
            public void forward(catena.worker.engine.SequenceCache[] caches, int[] counts, int size, int[] tokens,
                                float[] x) {
                try {
                    bothSent.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                super.forward(caches, counts, size, tokens, x);
            }
        };
        var refs = ring(1, gated, perToken * 4 * 8);
        TestProbe<SequenceEvent> older = KIT.createTestProbe();
        TestProbe<SequenceEvent> younger = KIT.createTestProbe();
        // Distinct prompts: identical ones would share every block through the prefix cache (their
        // greedy tokens are identical too) and never run out before the older outgrows the budget.
        int[] p = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        int[] q = {13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
        refs.get(0).tell(start(nextSequenceId++, p, 100, older));
        refs.get(0).tell(start(nextSequenceId++, q, 100, younger));
        // Both Starts are processed before the latch opens: GetStats queues behind them.
        TestProbe<StageActor.StageStats> queued = KIT.createTestProbe();
        refs.get(0).tell(new StageActor.GetStats(queued.getRef()));
        assertThat(queued.receiveMessage().sequences()).isEqualTo(2);
        bothSent.countDown();
        younger.fishForMessage(Duration.ofSeconds(5), m -> m instanceof SequenceEvent.SequenceInterrupted i
                && i.preempted() && i.reason().contains("KV memory") ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        refs.get(0).tell(new StageActor.GetStats(stats.getRef()));
        StageActor.StageStats st = stats.receiveMessage();
        assertThat(st.preemptions()).isPositive();
        assertThat(st.kvBlocksUsed()).isLessThanOrEqualTo(st.kvBlocksTotal());
    }

    @Test
    void shouldTellTheSinkOfEachPrefilledChunkBeforeTheFirstToken() {
        // 64 rows a pass: a 150-token prompt runs in chunks of 64, 64 and 22 (the last one samples).
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 4096, 0));
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] prompt = java.util.stream.IntStream.range(0, 150).map(i -> i % 90 + 1).toArray();
        long id = nextSequenceId++;
        refs.get(0).tell(new StageActor.Start(id, EPOCH, prompt, 0, SamplingParams.GREEDY, 2, new int[0], -1,
                sink.getRef()));
        // queued, then running: the session's watchdog stops, then runs again
        assertThat(sink.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 0, true));
        assertThat(sink.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 0, false));
        assertThat(sink.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 64, false));
        assertThat(sink.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 128, false));
        assertThat(sink.expectMessageClass(TokenSampled.class).token()).isEqualTo(expected(prompt, 2)[0]);
        assertThat(sink.expectMessageClass(TokenSampled.class).token()).isEqualTo(expected(prompt, 2)[1]);
        sink.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void shouldTellTheSinkThatItsSequenceIsQueuedWhenItWaitsForKvMemory() {
        // 8 blocks of 4 tokens: a 28-token prompt takes 7, a 12-token one (3 blocks) must wait.
        long perToken = 4L * 2 * ToyEngine.DIM * Float.BYTES;
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 4096, 0), perToken * 4 * 8);
        TestProbe<SequenceEvent> first = KIT.createTestProbe();
        TestProbe<SequenceEvent> second = KIT.createTestProbe();
        int[] big = java.util.stream.IntStream.rangeClosed(1, 28).toArray();
        long firstId = nextSequenceId++;
        refs.get(0).tell(start(firstId, big, 1, first));
        long id = nextSequenceId++;
        refs.get(0).tell(new StageActor.Start(id, EPOCH, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0,
                SamplingParams.GREEDY, 1, new int[0], -1, second.getRef()));
        assertThat(second.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 0, true));
        // Once the first ends and its owner frees it, the second runs.
        first.expectMessageClass(TokenSampled.class);
        refs.get(0).tell(new StageActor.Free(firstId));
        // running (from the 8 positions its prompt shares with the first's, in the prefix cache)
        assertThat(second.expectMessageClass(SequenceEvent.SequenceProgress.class))
                .isEqualTo(new SequenceEvent.SequenceProgress(id, 8, false));
        assertThat(second.expectMessageClass(TokenSampled.class).sequenceId()).isEqualTo(id);
    }

    @Test
    void shouldRejectAPromptThatNeverFitsTheKvMemory() {
        long perToken = 4L * 2 * ToyEngine.DIM * Float.BYTES;
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 4096, 0), perToken * 4 * 2);
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        refs.get(0).tell(start(nextSequenceId++, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, sink));
        var rejected = sink.expectMessageClass(SequenceEvent.SequenceRejected.class);
        assertThat(rejected.retryable()).isFalse();
        assertThat(rejected.reason()).contains("needs 3 KV blocks").contains("holds 2");
    }

    @Test
    void shouldLeaveAndReplyWhenDrainedWithNoSequences() {
        var refs = ring(1, ToyEngine.factory(LAYERS, VOCAB, 256, 0));
        TestProbe<org.apache.pekko.Done> done = KIT.createTestProbe();
        refs.get(0).tell(new StageActor.Drain(done.getRef()));
        done.expectMessage(org.apache.pekko.Done.getInstance());
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        refs.get(0).tell(start(nextSequenceId++, new int[] {1}, 3, sink));
        assertThat(sink.expectMessageClass(SequenceEvent.SequenceInterrupted.class).reason()).contains("left");
    }

    @Test
    void shouldBeReadyWhenWaitingOrServingButNotWhileLoadingOrAfterDraining() throws Exception {
        java.util.concurrent.CountDownLatch loadMayEnd = new java.util.concurrent.CountDownLatch(1);
        StageEngineFactory toy = ToyEngine.factory(LAYERS, VOCAB, 256, 0);
        StageEngineFactory slow = (path, keepF32, from, to) -> {
            try {
                loadMayEnd.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return toy.open(path, keepF32, from, to);
        };
        ActorRef<StageActor.Command> stage = KIT.spawn(StageActor.create(slow, settings(1L << 30)));
        TestProbe<Boolean> ready = KIT.createTestProbe();
        stage.tell(new StageActor.IsReady(ready.getRef()));
        assertThat(ready.receiveMessage()).as("unassigned: a spare waiting for a slot").isTrue();

        TestProbe<StageActor.AssignReply> assigned = KIT.createTestProbe();
        stage.tell(new StageActor.Assign("toy.gguf", false, 0, EPOCH, 0, 1, 0, 4, stage, assigned.getRef()));
        stage.tell(new StageActor.IsReady(ready.getRef()));
        assertThat(ready.receiveMessage()).as("loading").isFalse();
        loadMayEnd.countDown();
        assertThat(assigned.receiveMessage()).isInstanceOf(StageActor.Assigned.class);
        stage.tell(new StageActor.IsReady(ready.getRef()));
        assertThat(ready.receiveMessage()).as("serving its slot").isTrue();

        TestProbe<org.apache.pekko.Done> done = KIT.createTestProbe();
        stage.tell(new StageActor.Drain(done.getRef()));
        done.expectMessage(org.apache.pekko.Done.getInstance());
        stage.tell(new StageActor.IsReady(ready.getRef()));
        assertThat(ready.receiveMessage()).as("drained").isFalse();
    }

    private static List<ActorRef<StageActor.Command>> ringWithPrefixCache(boolean... prefixCache) {
        List<ActorRef<StageActor.Command>> refs = new ArrayList<>();
        for (boolean on : prefixCache) {
            refs.add(KIT.spawn(StageActor.create(ToyEngine.factory(LAYERS, VOCAB, 256, 0), new StageActor.Settings(
                    1L << 30, 4, 64, 0, 0, 64, 1L << 30, 1, 0, java.util.concurrent.Executors.newSingleThreadExecutor(),
                    on))));
        }
        assign(refs, EPOCH);
        return refs;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void shouldCarryTheRingOverActivationLinksAndGiveTheSameTokens(int stages) {
        StageEngineFactory engines = ToyEngine.factory(LAYERS, VOCAB, 256, 0);
        List<ActorRef<StageActor.Command>> refs = new ArrayList<>();
        List<String> links = new ArrayList<>();
        TestProbe<StageActor.WorkerDescription> described = KIT.createTestProbe();
        for (int i = 0; i < stages; i++) {
            StageActor.Settings plain = settings(1L << 30);
            StageActor.Settings linked = new StageActor.Settings(plain.kvMemoryBytes(), plain.kvBlockTokens(),
                    plain.maxBatchTokens(), plain.prefillRatio(), plain.reserveTokens(), plain.maxWaiting(),
                    plain.memoryBytes(), plain.cores(), plain.warmupRounds(), plain.compute(), true,
                    new StageActor.Link("127.0.0.1", 0));
            ActorRef<StageActor.Command> ref = KIT.spawn(StageActor.create(engines, linked));
            ref.tell(new StageActor.Describe(described.getRef()));
            String link = described.receiveMessage().link();
            assertThat(link).matches("127\\.0\\.0\\.1:\\d+");
            refs.add(ref);
            links.add(link);
        }
        int[] bounds = StagePlan.split(new long[] {1, 1, 1, 1}, stages);
        TestProbe<StageActor.AssignReply> assigned = KIT.createTestProbe();
        for (int i = 0; i < stages; i++) {
            refs.get(i).tell(new StageActor.Assign("toy.gguf", false, 0, EPOCH, i, stages, bounds[i], bounds[i + 1],
                    refs.get((i + 1) % stages), assigned.getRef(), links.get((i + 1) % stages)));
        }
        for (int i = 0; i < stages; i++) {
            assertThat(assigned.receiveMessage()).isInstanceOf(StageActor.Assigned.class);
        }
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        assertThat(generate(refs.get(0), start(nextSequenceId++, new int[] {3, 14, 15, 92, 65}, 10, sink), sink))
                .containsExactly(expected(new int[] {3, 14, 15, 92, 65}, 10));
        // 150 prompt tokens in chunks of at most 64 (settings): several Forwards of one sequence back to
        // back, which must arrive in order for its KV positions to be right.
        int[] longPrompt = new int[150];
        for (int i = 0; i < longPrompt.length; i++) {
            longPrompt[i] = (i * 37 + 11) % VOCAB;
        }
        assertThat(generate(refs.get(0), start(nextSequenceId++, longPrompt, 6, sink), sink))
                .containsExactly(expected(longPrompt, 6));
        for (ActorRef<StageActor.Command> ref : refs) {
            StageActor.StageStats st = stats(ref);
            assertThat(st.hops()).isPositive();
            assertThat(st.linkHops()).as("ring messages into stage %d over the link", st.stageIndex())
                    .isEqualTo(st.hops());
        }
    }

    private static int[] generate(ActorRef<StageActor.Command> first, StageActor.Start start,
                                  TestProbe<SequenceEvent> sink) {
        first.tell(start);
        int[] got = new int[start.maxTokens()];
        for (int i = 0; i < got.length; i++) {
            got[i] = sink.expectMessageClass(TokenSampled.class).token();
        }
        return got;
    }

    private static StageActor.StageStats stats(ActorRef<StageActor.Command> stage) {
        TestProbe<StageActor.StageStats> probe = KIT.createTestProbe();
        stage.tell(new StageActor.GetStats(probe.getRef()));
        return probe.receiveMessage();
    }

    private static final int[] SYSTEM = {5, 8, 13, 21, 34, 55, 89, 44, 33, 77, 10, 87, 97 - 1, 83, 80, 66, 46};

    private static int[] withSystem(int... tail) {
        int[] p = java.util.Arrays.copyOf(SYSTEM, SYSTEM.length + tail.length);
        System.arraycopy(tail, 0, p, SYSTEM.length, tail.length);
        return p;
    }

    @Test
    void shouldTakeTheSharedStartFromThePrefixCacheOnEveryStageWhenALaterPromptRepeatsIt() {
        var refs = ringWithPrefixCache(true, true, true);
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] a = withSystem(1, 2, 3);
        long idA = nextSequenceId++;
        assertThat(generate(refs.get(0), start(idA, a, 4, sink), sink)).containsExactly(expected(a, 4));
        for (var r : refs) {
            r.tell(new StageActor.Free(idA));
        }
        int[] b = withSystem(9, 9);
        // the toy stages check every row's position against their caches: rows that start at the
        // wrong position after an attach fail the pass instead of producing tokens
        assertThat(generate(refs.get(0), start(nextSequenceId++, b, 4, sink), sink)).containsExactly(expected(b, 4));
        assertThat(stats(refs.get(0)).prefix().hitTokens()).isEqualTo(16);
        assertThat(stats(refs.get(0)).prefix().queries()).isEqualTo(2);
        for (var r : refs) {
            assertThat(stats(r).prefix().cachedBlocks()).isGreaterThanOrEqualTo(4);
            assertThat(stats(r).prefix().misses()).isZero();
        }
    }

    @Test
    void shouldInterruptWithAPrefixMissAndServeTheRerunWithoutTheCacheWhenALaterStageLacksTheBlocks() {
        var refs = ringWithPrefixCache(true, false);
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        int[] a = withSystem(1, 2, 3);
        assertThat(generate(refs.get(0), start(nextSequenceId++, a, 2, sink), sink)).containsExactly(expected(a, 2));
        int[] b = withSystem(4);
        long idB = nextSequenceId++;
        refs.get(0).tell(start(idB, b, 3, sink));
        var missed = sink.expectMessageClass(SequenceEvent.SequenceInterrupted.class);
        assertThat(missed.sequenceId()).isEqualTo(idB);
        assertThat(missed.prefixMiss()).isTrue();
        assertThat(missed.reason()).isEqualTo("stage 1 of replica 0 no longer caches the prompt's first 16 positions"
                + " that stage 0 took from its prefix cache");
        assertThat(stats(refs.get(1)).prefix()).isEqualTo(catena.worker.engine.PrefixStats.NONE);
        for (var r : refs) {
            r.tell(new StageActor.Free(idB));
        }
        var rerun = new StageActor.Start(nextSequenceId++, EPOCH, b, 0, SamplingParams.GREEDY, 3, new int[0], -1,
                tokensOnly(sink), false);
        assertThat(generate(refs.get(0), rerun, sink)).containsExactly(expected(b, 3));
        assertThat(stats(refs.get(0)).prefix().hitTokens()).isEqualTo(16);
    }
}
