package catena.gateway.grpc;

import catena.gateway.bridge.WarmupResult;
import catena.gateway.security.WarmupSecret;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenizeRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Calls this gateway's own gRPC endpoint over loopback with {@link WarmupSecret} in its metadata, the
 * way a client would (HTTP/2, TLS when served, protobuf, validation, tokenizer, sessions, the
 * stages' request path, streaming back), so that the first client after SERVING does not pay for
 * class loading and interpreted code on that path. Each round sends one generation alone, then
 * {@code concurrency} at once (batched passes).
 */
public final class LoopbackWarmup {

    private LoopbackWarmup() {
    }

    /**
     * Runs {@code rounds} rounds against {@code 127.0.0.1:port}; each generation asks for
     * {@code maxTokens} greedy tokens after {@code prompt} and must end within {@code callTimeout}.
     */
    public static WarmupResult run(int port, ChannelCredentials credentials, WarmupSecret secret, String prompt,
                                   int rounds, int concurrency, int maxTokens, Duration callTimeout) throws InterruptedException {
        long start = System.nanoTime();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
        ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
        int calls = 0;
        int failed = 0;
        String problem = null;
        try {
            var stub = InferenceGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(WarmupInterceptor.metadata(secret)));
            GenerateRequest request = GenerateRequest.newBuilder().setText(prompt).setMaxTokens(maxTokens).build();
            for (int round = 0; round < rounds; round++) {
                List<Future<?>> batch = new ArrayList<>();
                batch.add(callers.submit(() -> {
                    stub.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                            .tokenize(TokenizeRequest.newBuilder().setText(prompt).build());
                    return drain(stub.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                            .generate(request));
                }));
                for (Future<?> f : awaitAll(batch)) {
                    calls++;
                    String p = problem(f);
                    if (p != null) {
                        failed++;
                        problem = problem == null ? p : problem;
                    }
                }
                batch.clear();
                for (int i = 0; i < concurrency; i++) {
                    batch.add(callers.submit(() -> drain(stub.withDeadlineAfter(callTimeout.toMillis(),
                            TimeUnit.MILLISECONDS).generate(request))));
                }
                for (Future<?> f : awaitAll(batch)) {
                    calls++;
                    String p = problem(f);
                    if (p != null) {
                        failed++;
                        problem = problem == null ? p : problem;
                    }
                }
            }
        } finally {
            callers.shutdownNow();
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        return new WarmupResult("gRPC", calls, failed, Duration.ofNanos(System.nanoTime() - start), problem);
    }

    private static int drain(Iterator<GenerateResponse> responses) {
        int n = 0;
        while (responses.hasNext()) {
            responses.next();
            n++;
        }
        return n;
    }

    private static List<Future<?>> awaitAll(List<Future<?>> futures) throws InterruptedException {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                // read by problem()
            }
        }
        return futures;
    }

    private static String problem(Future<?> done) throws InterruptedException {
        try {
            done.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof StatusRuntimeException s ? s.getStatus().toString() : e.getCause().toString();
        }
    }
}
