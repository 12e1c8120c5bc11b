package catena.worker.serial;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.sample.SamplingParams;
import catena.worker.actor.RelayedEvents;
import catena.worker.actor.SequenceEvent;
import catena.worker.actor.StageActor;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ClusterSerializerTest {
    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final Serialization SERIALIZATION = SerializationExtension.get(Adapter.toClassic(KIT.system()));

    @AfterAll
    static void shutdown() {
        KIT.shutdownTestKit();
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T message) {
        var serializer = SERIALIZATION.findSerializerFor(message);
        assertThat(serializer).isInstanceOf(ClusterSerializer.class);
        byte[] bytes = serializer.toBinary(message);
        String manifest = Serializers.manifestFor(serializer, message);
        return (T) SERIALIZATION.deserialize(bytes, serializer.identifier(), manifest).get();
    }

    @Test
    void shouldRoundTripActivationsAsLittleEndianFloatsWithTheirSequenceHeaders() {
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        SamplingParams params = new SamplingParams(0.7f, 40, 0.9f, 0.05f, 1.1f, 64, 1234567890123L);
        StageActor.Start start = new StageActor.Start(7, 11, new int[] {2, 17, 99}, 2, params, 32, new int[] {1, 106},
                3, sink.getRef());
        float[] data = {1.5f, -2.25f, Float.MIN_VALUE, 3e38f, 0f, -0f, 1e-7f, 42f};
        StageActor.Forward f = new StageActor.Forward(11,
                List.of(new StageActor.Rows(7, 1, false, start), new StageActor.Rows(9, 1, true, null)), new int[] {2, 5}, data, 4,
                1_765_000_000_123_456L);
        StageActor.Forward back = roundTrip(f);
        assertThat(back.data()).containsExactly(data);
        assertThat(back.dim()).isEqualTo(4);
        assertThat(back.sentMicros()).isEqualTo(1_765_000_000_123_456L);
        assertThat(back.tokens()).containsExactly(2, 5);
        assertThat(back.sequences().get(1)).isEqualTo(new StageActor.Rows(9, 1, true, null));
        StageActor.Start s = back.sequences().get(0).start();
        assertThat(s.prompt()).containsExactly(2, 17, 99);
        assertThat(s.endIds()).containsExactly(1, 106);
        assertThat(s.sampling()).isEqualTo(params);
        assertThat(s.maxTokens()).isEqualTo(32);
        assertThat(s.epoch()).isEqualTo(11);
        assertThat(s.firstStep()).isEqualTo(2);
        assertThat(back.epoch()).isEqualTo(11);
        assertThat(s.logprobs()).isEqualTo(3);
        assertThat(s.sink()).isEqualTo(sink.getRef());
    }

    @Test
    void shouldRoundTripControlMessagesAndReplies() {
        TestProbe<StageActor.AssignReply> replies = KIT.createTestProbe();
        TestProbe<StageActor.Command> next = KIT.createTestProbe();
        TestProbe<StageActor.StageStats> stats = KIT.createTestProbe();
        List<Object> messages = List.of(
                new StageActor.Assign("/m.gguf", true, 1, 9, 1, 3, 2, 4, next.getRef(), replies.getRef()),
                new StageActor.Unassign(9),
                new StageActor.Assigned(1, 9, 2, next.getRef()),
                new StageActor.AssignFailed(2, 9, 1, next.getRef(), "no such file: /m.gguf"),
                new StageActor.Leaving(next.getRef()),
                new StageActor.WorkerDescription(next.getRef(), 1L << 33, 2, "/m.gguf", 2, 4, 1, 1, 9, true),
                new StageActor.WorkerDescription(next.getRef(), 1L << 33, 2, "/m.gguf", 2, 4, 1, 1, 9, false,
                        "10.0.0.7:2553"),
                new StageActor.Assign("/m.gguf", false, 1, 9, 0, 3, 0, 2, next.getRef(), replies.getRef(),
                        "10.0.0.8:2553"),
                new StageActor.NextTokens(9, List.of(new StageActor.Fed(5, 77), new StageActor.Fed(6, 78)), 42L),
                new StageActor.Free(5),
                new StageActor.Throttle(5, true),
                new StageActor.GetStats(stats.getRef()),
                new StageActor.StageStats(1, 9, 0, 0, 2, 3, 1, 4096, 5, 64, 16, 10, 55, 4, 3, 2, 7, 1, 123_456_789L, 12,
                        3_456_000L, "q8_0", 2176, 69_632),
                new SequenceEvent.SequenceInterrupted(5, "preempted", false, true),
                new SequenceEvent.SequenceInterrupted(7, "draining"),
                new SequenceEvent.SequenceInterrupted(6, "stage 1 lacks the cached prefix", true),
                new StageActor.StageStats(1, 9, 0, 0, 2, 3, 1, 4096, 5, 64, 16, 10, 55, 4, 3, 2, 7, 1, 123_456_789L, 12,
                        3_456_000L, "f16", 1088, 4096, new catena.worker.engine.PrefixStats(4, 4000, 3000, 70, 20, 5, 1)),
                new StageActor.StageStats(1, 9, 1, 2, 4, 3, 1, 4096, 5, 64, 16, 10, 55, 4, 3, 2, 7, 1, 123_456_789L, 12,
                        3_456_000L, "f16", 1088, 4096, catena.worker.engine.PrefixStats.NONE, 11),
                new SequenceEvent.SequenceRejected(5, "queue full", true),
                new SequenceEvent.SequenceProgress(5, 48, false),
                new SequenceEvent.SequenceProgress(6, 0, true),
                new catena.worker.plan.Topology(1700000000000L, 4, List.of(new catena.worker.plan.Topology.Replica(1, 9, true,
                        List.of(new catena.worker.plan.Topology.Stage(0, 0, 2, next.getRef())))), 1, "short"),
                new SequenceEvent.TokenSampled(5, 77, 3, SequenceEvent.EndReason.LENGTH),
                new SequenceEvent.TokenSampled(5, 78, 4, SequenceEvent.EndReason.NONE,
                        new SequenceEvent.Logprob(-0.25f, new int[] {78, 3}, new float[] {-0.25f, -1.5f})),
                new SequenceEvent.SequenceFailed(5, "stage 1 failed"));
        for (Object m : messages) {
            assertThat(roundTrip(m)).isEqualTo(m);
        }
    }

    @Test
    void shouldCarryTheCachedPrefixAndTheNoCacheFlagWhenStageZeroUsedItsPrefixCache() {
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        StageActor.Start start = new StageActor.Start(7, 11, new int[] {2, 17, 99}, 0, SamplingParams.GREEDY, 32,
                new int[0], -1, sink.getRef(), false);
        StageActor.Forward f = new StageActor.Forward(11, List.of(new StageActor.Rows(7, 1, true, start, 32)),
                new int[] {99}, new float[4], 4, 0);
        StageActor.Forward back = roundTrip(f);
        assertThat(back.sequences().getFirst().cachedPrefix()).isEqualTo(32);
        assertThat(back.sequences().getFirst().start().prefixCache()).isFalse();
        StageActor.Start on = roundTrip(new StageActor.Start(8, 11, new int[] {2}, 0, SamplingParams.GREEDY, 4,
                new int[0], -1, sink.getRef()));
        assertThat(on.prefixCache()).isTrue();
        assertThat(on.resumed()).isFalse();
    }

    @Test
    void shouldCarryTheResumedFlagWhenTheGatewayReSubmitsASequence() {
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        StageActor.Start back = roundTrip(new StageActor.Start(9, 11, new int[] {2, 5}, 1, SamplingParams.GREEDY, 4,
                new int[0], -1, sink.getRef(), true, true));
        assertThat(back.resumed()).isTrue();
        assertThat(back.firstStep()).isEqualTo(1);
    }

    @Test
    void shouldCarryTheRelayAndRelayedEventsWhenTheGatewayRelaysThem() {
        TestProbe<SequenceEvent> sink = KIT.createTestProbe();
        TestProbe<RelayedEvents> relay = KIT.createTestProbe();
        StageActor.Start start = new StageActor.Start(9, 11, new int[] {2, 5}, 0, SamplingParams.GREEDY, 4,
                new int[0], -1, sink.getRef(), true, false, relay.getRef());
        StageActor.Start back = roundTrip(start);
        assertThat(back.relay()).isEqualTo(relay.getRef());
        assertThat(back.sink()).isEqualTo(sink.getRef());
        assertThat(roundTrip(new StageActor.Start(9, 11, new int[] {2}, 0, SamplingParams.GREEDY, 4, new int[0], -1,
                sink.getRef())).relay()).isNull();
        // Later stages learn the relay from the first rows' Start.
        StageActor.Forward f = roundTrip(new StageActor.Forward(11, List.of(new StageActor.Rows(9, 2, true, start)),
                new int[] {2, 5}, new float[8], 4, 0));
        assertThat(f.sequences().getFirst().start().relay()).isEqualTo(relay.getRef());

        RelayedEvents pass = new RelayedEvents(List.of(
                new SequenceEvent.SequenceProgress(12, 16, false),
                new SequenceEvent.TokenSampled(9, 42, 0, SequenceEvent.EndReason.NONE),
                new SequenceEvent.TokenSampled(10, 7, 3, SequenceEvent.EndReason.EOS,
                        new SequenceEvent.Logprob(-0.5f, new int[] {7, 8}, new float[] {-0.5f, -1.25f})),
                new SequenceEvent.TokenSampled(12, 1, 31, SequenceEvent.EndReason.LENGTH),
                new SequenceEvent.SequenceInterrupted(13, "preempted", false, true),
                new SequenceEvent.SequenceFailed(14, "stage 1 failed"),
                new SequenceEvent.SequenceRejected(15, "queue full", true)));
        assertThat(roundTrip(pass)).isEqualTo(pass);
    }
}
