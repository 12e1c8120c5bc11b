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
        WarmupResult.Tally tally = new WarmupResult.Tally("gRPC");
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
        ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();
        try {
            var stub = InferenceGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(WarmupInterceptor.metadata(secret)));
            GenerateRequest request = GenerateRequest.newBuilder().setText(prompt).setMaxTokens(maxTokens).build();
            for (int round = 0; round < rounds; round++) {
                await(tally, List.of(callers.submit(() -> {
                    stub.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                            .tokenize(TokenizeRequest.newBuilder().setText(prompt).build());
                    return drain(stub.withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                            .generate(request));
                })));
                List<Future<?>> batch = new ArrayList<>();
                for (int i = 0; i < concurrency; i++) {
                    batch.add(callers.submit(() -> drain(stub.withDeadlineAfter(callTimeout.toMillis(),
                            TimeUnit.MILLISECONDS).generate(request))));
                }
                await(tally, batch);
            }
        } finally {
            callers.shutdownNow();
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        return tally.result();
    }

    /** Waits for each call and counts how it ended. */
    private static void await(WarmupResult.Tally tally, List<? extends Future<?>> calls) throws InterruptedException {
        for (Future<?> f : calls) {
            try {
                f.get();
                tally.ended(null);
            } catch (ExecutionException e) {
                tally.ended(e.getCause() instanceof StatusRuntimeException s ? s.getStatus().toString()
                        : e.getCause().toString());
            }
        }
    }

    private static int drain(Iterator<GenerateResponse> responses) {
        int n = 0;
        while (responses.hasNext()) {
            responses.next();
            n++;
        }
        return n;
    }
}
