package catena.gateway.bench;

import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenPrompt;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Sends a benchmark's prompts over Catena's gRPC API ({@code Generate}, streaming) at the planned
 * times, at most {@code maxConcurrency} at once, and records each request's timestamps.
 */
public final class GrpcLoadClient implements LoadClient {
    private final Channel channel;
    private final int maxConcurrency;
    private final long timeoutSeconds;

    public GrpcLoadClient(Channel channel, int maxConcurrency, long timeoutSeconds) {
        this.channel = channel;
        this.maxConcurrency = maxConcurrency;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** The gRPC request for one benchmark request. */
    static GenerateRequest request(BenchRequest r) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        for (int id : r.prompt()) {
            p.addIds(id);
        }
        return GenerateRequest.newBuilder().setTokens(p).setMaxTokens(r.maxTokens()).setTemperature(r.temperature())
                .setSeed(r.seed()).build();
    }

    @Override
    public List<RequestRecord> run(List<BenchRequest> requests, long[] sendAt, PrintStream progress,
                                   String label) throws InterruptedException {
        int n = requests.size();
        RequestRecord[] records = new RequestRecord[n];
        Semaphore slots = new Semaphore(maxConcurrency);
        CountDownLatch done = new CountDownLatch(n);
        Progress bar = new Progress(progress, label, n);
        var stub = InferenceGrpc.newStub(channel);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long wait = sendAt[i] - (System.nanoTime() - start);
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            slots.acquire();
            int index = i;
            GenerateRequest request = request(requests.get(i));
            long sent = System.nanoTime() - start;
            stub.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS).generate(request,
                    new StreamObserver<>() {
                        private final List<Long> times = new ArrayList<>();

                        @Override
                        public void onNext(GenerateResponse r) {
                            long now = System.nanoTime() - start;
                            for (int t = 0; t < r.getTokenIdsCount(); t++) {
                                times.add(now);
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            finish(io.grpc.Status.fromThrowable(t).toString());
                        }

                        @Override
                        public void onCompleted() {
                            finish(null);
                        }

                        private void finish(String error) {
                            long end = System.nanoTime() - start;
                            long[] t = new long[times.size()];
                            for (int k = 0; k < t.length; k++) {
                                t[k] = times.get(k);
                            }
                            records[index] = new RequestRecord(sent, t, end,
                                    request.getTokens().getIdsCount(), error);
                            slots.release();
                            bar.finished();
                            done.countDown();
                        }
                    });
        }
        done.await();
        return List.of(records);
    }
}
