package catena.gateway.openai;

import catena.gateway.session.GenerationFailure;
import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationSink;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.util.ByteString;

/**
 * A generation streamed as server-sent events ({@code data: {...}} per output, the usage chunk
 * when asked, {@code data: [DONE]}) into the queue that feeds the HTTP response.
 *
 * <p>Back-pressure: the session sends only while fewer than {@link #HIGH_WATER} events wait in the
 * queue; as the HTTP connection takes events, {@link #delivered()} tells the session it may
 * resume. A response stream that ends before the generation did (the client disconnected)
 * cancels the session, which frees its sequence on every stage, as a gRPC cancel does.
 */
final class SseSink implements GenerationSink {
    /** Events that may wait for the connection before the session is paused. */
    static final int HIGH_WATER = 16;
    /** Room of the queue: the high water mark plus the last output, the usage chunk and [DONE]. */
    static final int CAPACITY = HIGH_WATER + 8;
    private static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

    private final BoundedSourceQueue<ByteString> queue;
    private final ResponseWriter writer;
    private final ObjectMapper json;
    private final boolean includeUsage;
    private final AtomicReference<GenerationHandle> handle = new AtomicReference<>();
    private final AtomicBoolean wanted = new AtomicBoolean();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final CompletableFuture<ApiError> started = new CompletableFuture<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile boolean finished;

    SseSink(BoundedSourceQueue<ByteString> queue, ResponseWriter writer, ObjectMapper json, boolean includeUsage) {
        this.queue = queue;
        this.writer = writer;
        this.json = json;
        this.includeUsage = includeUsage;
    }

    /**
     * Completes when the first output (null: stream it, status 200) or a failure before any output
     * (the error: answer with its status, as the gRPC call would end with its code) arrives.
     */
    CompletableFuture<ApiError> started() {
        return started;
    }

    /** Completes when the generation finished, failed or was cancelled: nothing more to cancel. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    /** Wires the session's controls; a stream that already ended cancels it at once. */
    void attach(GenerationHandle h) {
        handle.set(h);
        if (cancelled.get()) {
            h.cancel();
        } else if (wanted.get() && queue.size() < HIGH_WATER && wanted.compareAndSet(true, false)) {
            h.ready();
        }
    }

    @Override
    public boolean isReady() {
        wanted.set(true);
        if (queue.size() < HIGH_WATER) {
            wanted.set(false);
            return true;
        }
        return false;
    }

    @Override
    public void onOutput(GenerationOutput output) {
        started.complete(null);
        offer(event(writer.chunk(output)));
        if (output.last() && includeUsage) {
            offer(event(writer.usageChunk(output.usage())));
        }
    }

    @Override
    public void onCompleted() {
        finished = true;
        started.complete(null);
        offer(DONE);
        queue.complete();
        ended.complete(null);
    }

    /**
     * Before any output the failure becomes the response's status; after it the headers are sent,
     * so it goes as an error event (OpenAI's error object), then the stream ends.
     */
    @Override
    public void onFailed(GenerationFailure failure) {
        finished = true;
        ApiError error = Errors.of(failure);
        if (!started.complete(error)) {
            offer(event(error.toJson(json)));
        }
        queue.complete();
        ended.complete(null);
    }

    /** The connection took an event: resume a paused session once there is room. */
    void delivered() {
        GenerationHandle h = handle.get();
        if (h != null && wanted.get() && queue.size() < HIGH_WATER && wanted.compareAndSet(true, false)) {
            h.ready();
        }
    }

    /** The response stream ended: completed after [DONE], or cancelled because the client went away. */
    void terminated() {
        if (finished || !cancelled.compareAndSet(false, true)) {
            return;
        }
        GenerationHandle h = handle.get();
        if (h != null) {
            h.cancel();
        }
        // Nothing was sent yet: the pending response must still be answered, not left waiting.
        started.complete(ApiError.clientClosed());
        ended.complete(null);
    }

    private void offer(ByteString event) {
        QueueOfferResult r = queue.offer(event);
        if (r instanceof QueueOfferResult.Dropped$) {
            // Cannot happen while the session respects isReady; losing text silently would be worse than ending.
            queue.fail(new IllegalStateException("SSE queue overflow: capacity=" + CAPACITY));
            terminated();
        }
    }

    private ByteString event(JsonNode node) {
        try {
            return ByteString.fromString("data: " + json.writeValueAsString(node) + "\n\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize an SSE event", e);
        }
    }
}
