package catena.gateway.grpc;

import io.grpc.Metadata;
import java.time.Duration;

/**
 * The retry advice of a refusal, in gRPC's own trailer: {@code grpc-retry-pushback-ms}, which
 * gRPC clients with a retry policy obey (a delay in milliseconds; a negative value: do not retry).
 */
final class RetryPushback {
    static final Metadata.Key<String> KEY = Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

    private RetryPushback() {
    }

    /**
     * Trailers for a failure: the delay when {@code retryAfter} is given; "-1" (never retry) for a
     * refusal for room without one (the request can never fit); none otherwise.
     */
    static Metadata trailers(boolean refusedForRoom, Duration retryAfter) {
        Metadata m = new Metadata();
        if (retryAfter != null) {
            m.put(KEY, Long.toString(Math.max(0, retryAfter.toMillis())));
        } else if (refusedForRoom) {
            m.put(KEY, "-1");
        }
        return m;
    }
}
