package catena.it.cluster;

import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A streaming generation whose client reads at will: it takes {@code first} responses, then
 * stops reading until {@link #resume()}, the way a slow or paused client does. Records every
 * token with its arrival time, and how the stream ended.
 */
final class PausedStream implements ClientResponseObserver<GenerateRequest, GenerateResponse> {
    private final int first;
    private final List<Integer> tokens = new ArrayList<>();
    private final List<Long> arrivals = new ArrayList<>();
    private final CompletableFuture<Status> done = new CompletableFuture<>();
    private final AtomicLong received = new AtomicLong();
    private volatile ClientCallStreamObserver<GenerateRequest> call;
    private boolean paused;
    private boolean resumed;
    private boolean eos;

    PausedStream(int first) {
        this.first = first;
    }

    static PausedStream start(InferenceGrpc.InferenceStub stub, GenerateRequest request, int first) {
        PausedStream s = new PausedStream(first);
        stub.generate(request, s);
        return s;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
        call = requestStream;
        requestStream.disableAutoRequestWithInitial(1);
    }

    @Override
    public synchronized void onNext(GenerateResponse r) {
        long now = System.nanoTime();
        for (int id : r.getTokenIdsList()) {
            tokens.add(id);
            arrivals.add(now);
        }
        eos = r.getFinishReason() == catena.v1.FinishReason.FINISH_REASON_EOS;
        if (received.incrementAndGet() < first || resumed) {
            call.request(1);
        } else {
            paused = true;
        }
    }

    /** Reads everything from now on. */
    synchronized void resume() {
        resumed = true;
        if (paused) {
            paused = false;
            call.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        done.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        done.complete(Status.OK);
    }

    CompletableFuture<Status> done() {
        return done;
    }

    /** Responses received so far; fails at once if the stream already ended with an error. */
    long received() {
        if (done.isDone() && !done.join().isOk()) {
            throw new AssertionError("the stream ended early: " + done.join());
        }
        return received.get();
    }

    /** Tokens received, without a final end-of-generation token. */
    synchronized int[] tokens() {
        int n = eos ? tokens.size() - 1 : tokens.size();
        return tokens.subList(0, n).stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The longest wait between consecutive tokens from {@code nanos} on (counting from {@code nanos}
     * itself to the first token after it): for a stream that failed over, the pause it saw.
     */
    synchronized long longestGapAfter(long nanos) {
        long previous = nanos;
        long longest = 0;
        for (long t : arrivals) {
            if (t > nanos) {
                longest = Math.max(longest, t - previous);
                previous = t;
            }
        }
        return longest;
    }
}
