package catena.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import catena.gateway.ToyTokenizer;
import catena.shard.sample.SamplingParams;
import catena.worker.actor.RelayedEvents;
import catena.worker.actor.SequenceEvent;
import catena.worker.actor.StageActor;
import catena.worker.plan.Topology;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The session's rules for interruptions, against a probe standing in for the replica's one stage:
 * what it re-submits, how, and when it gives up.
 */
class GenerationSessionTest {
    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final int[] PROMPT = {5, 6, 7};

    @AfterAll
    static void shutdown() {
        KIT.shutdownTestKit();
    }

    /** One ready replica whose only stage is {@code stage}. */
    private record OneReplica(TestProbe<StageActor.Command> stage, AtomicLong ids) implements GenerationSession.Placement {
        @Override
        public Topology.Replica place(int[] prompt) {
            return new Topology.Replica(0, 1, true, List.of(new Topology.Stage(0, 0, 4, stage.getRef())));
        }

        @Override
        public void ended(int replica) {
        }

        @Override
        public void queued(long nanos) {
        }

        @Override
        public Topology current() {
            return null;
        }

        @Override
        public long nextSequenceId() {
            return ids.incrementAndGet();
        }
    }

    /** Records what the client would see. */
    private static final class Client implements GenerationSink {
        final CompletableFuture<GenerationFailure> failed = new CompletableFuture<>();
        final CompletableFuture<Void> completed = new CompletableFuture<>();
        final List<Integer> tokens = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void onOutput(GenerationOutput output) {
            for (int t : output.tokenIds()) {
                tokens.add(t);
            }
        }

        @Override
        public void onCompleted() {
            completed.complete(null);
        }

        @Override
        public void onFailed(GenerationFailure failure) {
            failed.complete(failure);
        }
    }

    private static StageActor.Start startOn(TestProbe<StageActor.Command> stage) {
        StageActor.Command c = stage.fishForMessage(Duration.ofSeconds(5), m -> m instanceof StageActor.Start
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).getLast();
        return (StageActor.Start) c;
    }

    private static Client session(TestProbe<StageActor.Command> stage) {
        return session(stage, null);
    }

    private static Client session(TestProbe<StageActor.Command> stage, TokenRelay relay) {
        Client client = new Client();
        GenerationRequest request = new GenerationRequest(PROMPT, SamplingParams.GREEDY, 4, List.of(),
                GenerationRequest.NO_LOGPROBS);
        KIT.spawn(GenerationSession.create(request, new OneReplica(stage, new AtomicLong()), relay, new ToyTokenizer(97),
                new int[0], client, Duration.ofSeconds(5), () -> { }));
        return client;
    }

    @Test
    void shouldTakeEventsFromTheRelayForItsCurrentAttemptOnlyWhenTheGatewayRelaysThem() throws Exception {
        TokenRelay relay = TokenRelay.spawn(KIT.system(), "relay-" + java.util.UUID.randomUUID());
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        Client client = session(stage, relay);
        StageActor.Start first = startOn(stage);
        assertThat(first.relay()).isEqualTo(relay.ref());
        relay.ref().tell(new RelayedEvents(List.of(
                new SequenceEvent.TokenSampled(first.sequenceId() + 1000, 66, 0, SequenceEvent.EndReason.NONE),
                new SequenceEvent.TokenSampled(first.sequenceId(), 40, 0, SequenceEvent.EndReason.NONE))));
        awaitTokens(client, 1);
        relay.ref().tell(new RelayedEvents(List.of(
                new SequenceEvent.SequenceInterrupted(first.sequenceId(), "stage drained"))));
        StageActor.Start second = startOn(stage);
        assertThat(second.firstStep()).isEqualTo(1);
        // A late token of the first attempt is dropped at the relay; the second attempt's tokens pass.
        relay.ref().tell(new RelayedEvents(List.of(
                new SequenceEvent.TokenSampled(first.sequenceId(), 41, 1, SequenceEvent.EndReason.NONE),
                new SequenceEvent.TokenSampled(second.sequenceId(), 42, 1, SequenceEvent.EndReason.NONE))));
        relay.ref().tell(new RelayedEvents(List.of(
                new SequenceEvent.TokenSampled(second.sequenceId(), 43, 2, SequenceEvent.EndReason.NONE),
                new SequenceEvent.TokenSampled(second.sequenceId(), 44, 3, SequenceEvent.EndReason.LENGTH))));
        client.completed.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(client.tokens).containsExactly(40, 42, 43, 44);
        assertThat(relay.openSequences()).isZero();
        assertThat(relay.dropped()).as("the foreign id's token and the first attempt's late one").isEqualTo(2);
    }

    @Test
    void shouldCloseItsIdInTheRelayWhenCancelledOrFailed() throws Exception {
        TokenRelay relay = TokenRelay.spawn(KIT.system(), "relay-" + java.util.UUID.randomUUID());
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        Client client = new Client();
        GenerationRequest request = new GenerationRequest(PROMPT, SamplingParams.GREEDY, 4, List.of(),
                GenerationRequest.NO_LOGPROBS);
        var cancelled = KIT.spawn(GenerationSession.create(request, new OneReplica(stage, new AtomicLong()), relay,
                new ToyTokenizer(97), new int[0], client, Duration.ofSeconds(5), () -> { }));
        startOn(stage);
        assertThat(relay.openSequences()).isEqualTo(1);
        cancelled.tell(GenerationSession.Cancel.INSTANCE);
        awaitOpen(relay, 0);

        Client failing = session(stage, relay);
        StageActor.Start s = startOn(stage);
        relay.ref().tell(new RelayedEvents(List.of(new SequenceEvent.SequenceFailed(s.sequenceId(), "stage 0 failed"))));
        assertThat(failing.failed.get(5, java.util.concurrent.TimeUnit.SECONDS).kind())
                .isEqualTo(GenerationFailure.Kind.INTERNAL);
        awaitOpen(relay, 0);
    }

    private static void awaitOpen(TokenRelay relay, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (relay.openSequences() != n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(relay.openSequences()).isEqualTo(n);
    }

    private static void awaitTokens(Client client, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (client.tokens.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(client.tokens).hasSize(n);
    }

    @Test
    void shouldResubmitAsResumedWithTheTokensSoFarWhenPreemptedMoreTimesThanTheAttemptLimit() {
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        Client client = session(stage);
        StageActor.Start first = startOn(stage);
        assertThat(first.resumed()).isFalse();
        assertThat(first.prompt()).containsExactly(PROMPT);
        first.sink().tell(new SequenceEvent.TokenSampled(first.sequenceId(), 40, 0, SequenceEvent.EndReason.NONE));
        StageActor.Start s = first;
        for (int i = 0; i < GenerationSession.MAX_ATTEMPTS + 6; i++) {
            s.sink().tell(new SequenceEvent.SequenceInterrupted(s.sequenceId(), "preempted", false, true));
            StageActor.Start next = startOn(stage);
            assertThat(next.sequenceId()).isNotEqualTo(s.sequenceId());
            assertThat(next.resumed()).isTrue();
            assertThat(next.prompt()).containsExactly(5, 6, 7, 40);
            assertThat(next.firstStep()).isEqualTo(1);
            s = next;
        }
        assertThat(client.failed).isNotDone();
    }

    @Test
    void shouldFailUnavailableWhenInterruptedForOtherReasonsUpToTheAttemptLimit() throws Exception {
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        Client client = session(stage);
        StageActor.Start s = startOn(stage);
        for (int i = 1; i < GenerationSession.MAX_ATTEMPTS; i++) {
            s.sink().tell(new SequenceEvent.SequenceInterrupted(s.sequenceId(), "stage is draining"));
            s = startOn(stage);
            assertThat(s.resumed()).isTrue();
        }
        s.sink().tell(new SequenceEvent.SequenceInterrupted(s.sequenceId(), "stage is draining"));
        GenerationFailure f = client.failed.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(f.kind()).isEqualTo(GenerationFailure.Kind.UNAVAILABLE);
        assertThat(f.message()).isEqualTo("the sequence was interrupted " + GenerationSession.MAX_ATTEMPTS
                + " times; last: stage is draining");
    }

    @Test
    void shouldStopUsingThePrefixCacheAfterAPrefixMiss() {
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        session(stage);
        StageActor.Start s = startOn(stage);
        assertThat(s.prefixCache()).isTrue();
        s.sink().tell(new SequenceEvent.SequenceInterrupted(s.sequenceId(), "stage 1 lacks the prefix", true));
        StageActor.Start rerun = startOn(stage);
        assertThat(rerun.prefixCache()).isFalse();
        assertThat(rerun.resumed()).isTrue();
    }

    @Test
    void shouldFailWithRetryAdviceOnlyWhenTheStageMayTakeTheSequenceLater() throws Exception {
        TestProbe<StageActor.Command> stage = KIT.createTestProbe();
        Client full = session(stage);
        StageActor.Start s = startOn(stage);
        s.sink().tell(new SequenceEvent.SequenceRejected(s.sequenceId(), "replica 0 has 8 sequences waiting", true));
        GenerationFailure f = full.failed.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(f.kind()).isEqualTo(GenerationFailure.Kind.RESOURCE_EXHAUSTED);
        assertThat(f.message()).isEqualTo("replica 0 has 8 sequences waiting; retry later");
        assertThat(f.retryAfter()).isEqualTo(GenerationFailure.ROOM_RETRY);

        Client never = session(stage);
        StageActor.Start t = startOn(stage);
        t.sink().tell(new SequenceEvent.SequenceRejected(t.sequenceId(), "the prompt needs 9 KV blocks", false));
        GenerationFailure g = never.failed.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(g.message()).isEqualTo("the prompt needs 9 KV blocks");
        assertThat(g.retryAfter()).isNull();
    }
}
