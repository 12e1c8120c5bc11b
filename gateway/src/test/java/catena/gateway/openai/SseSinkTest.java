package catena.gateway.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.ToyTokenizer;
import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationRequest;
import catena.shard.sample.SamplingParams;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SSE sink's flow control and lifecycle against a real Pekko stream whose consumer pulls one
 * event at a time: ready while fewer than the high-water mark wait, resumed once the consumer
 * takes events, cancelled when the consumer goes away before the end, not after it.
 */
class SseSinkTest {
    private ActorSystem system;
    private Materializer mat;
    private final AtomicInteger readies = new AtomicInteger();
    private final AtomicInteger cancels = new AtomicInteger();
    private final GenerationHandle handle = new GenerationHandle() {
        @Override
        public void ready() {
            readies.incrementAndGet();
        }

        @Override
        public void cancel() {
            cancels.incrementAndGet();
        }
    };
    private SseSink sink;
    private SinkQueueWithCancel<ByteString> consumer;

    @BeforeEach
    void start() {
        system = ActorSystem.create("sse-test");
        mat = Materializer.matFromSystem(system);
        var queued = Source.<ByteString>queue(SseSink.CAPACITY).preMaterialize(mat);
        ApiRequest request = new ApiRequest(ApiRequest.Endpoint.COMPLETION, new GenerationRequest(new int[] {2},
                SamplingParams.GREEDY, 100, List.of()), true, true);
        sink = new SseSink(queued.first(), new ResponseWriter(new ObjectMapper(), new ToyTokenizer(97), request,
                "toy.gguf", "cmpl-1", 0), new ObjectMapper(), true);
        consumer = queued.second()
                .map(b -> {
                    sink.delivered();
                    return b;
                })
                .watchTermination((m, done) -> {
                    done.whenComplete((d, e) -> sink.terminated());
                    return m;
                })
                .toMat(Sink.<ByteString>queue(), Keep.right())
                .withAttributes(Attributes.inputBuffer(1, 1)) // a consumer that takes only what it pulls
                .run(mat);
        sink.attach(handle);
    }

    @AfterEach
    void stop() {
        system.terminate();
    }

    private static GenerationOutput piece(String text) {
        return new GenerationOutput(text, new int[] {3}, List.of(), null, null);
    }

    private String take() throws Exception {
        Optional<ByteString> b = consumer.pull().toCompletableFuture().get(5, TimeUnit.SECONDS);
        return b.map(ByteString::utf8String).orElse(null);
    }

    @Test
    void shouldPauseAtTheHighWaterMarkAndResumeWhenTheConsumerTakesEvents() throws Exception {
        int sent = 0;
        while (sink.isReady()) {
            sink.onOutput(piece("x"));
            sent++;
            assertThat(sent).isLessThanOrEqualTo(SseSink.CAPACITY);
        }
        // Past the queue's own mark the stream holds a few events in its buffers; the queue never overflows.
        assertThat(sent).isBetween(SseSink.HIGH_WATER, SseSink.CAPACITY);
        // (the stream may already have pulled an event into its own buffer and so resumed the
        // session: readies is 0 or 1 here, never more)
        assertThat(readies.get()).isBetween(0, 1);
        assertThat(take()).startsWith("data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\"");
        int taken = 1;
        while (readies.get() == 0 && taken < sent) {
            take();
            taken++;
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(readies).hasValue(1));
        assertThat(taken).as("resumed before the consumer drained everything").isLessThan(sent);
        assertThat(sink.isReady()).isTrue();
        while (taken < sent) {
            take();
            taken++;
        }
        assertThat(readies).as("ready is signalled once per pause").hasValue(1);
    }

    @Test
    void shouldCancelTheGenerationWhenTheConsumerGoesAwayBeforeTheEnd() throws Exception {
        sink.onOutput(piece("x"));
        take();
        consumer.cancel();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(cancels).hasValue(1));
    }

    @Test
    void shouldEndWithUsageAndDoneAndNotCancelWhenTheGenerationCompletes() throws Exception {
        sink.onOutput(new GenerationOutput("y", new int[] {4}, List.of(), GenerationOutput.FinishReason.LENGTH,
                new GenerationOutput.Usage(1, 1)));
        sink.onCompleted();
        assertThat(take()).contains("\"finish_reason\":\"length\"");
        assertThat(take()).contains("\"choices\":[]").contains("\"total_tokens\":2");
        assertThat(take()).isEqualTo("data: [DONE]\n\n");
        assertThat(take()).isNull();
        Thread.sleep(200);
        assertThat(cancels).hasValue(0);
    }
}
