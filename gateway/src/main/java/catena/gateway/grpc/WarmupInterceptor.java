package catena.gateway.grpc;

import catena.gateway.security.WarmupSecret;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Marks calls that carry this process's {@link WarmupSecret} in their metadata as the gateway's
 * own warm-up ({@link #isWarmup()}): the API-key check lets them through and the service keeps
 * them out of the serving metrics. A missing or wrong value changes nothing: the call runs as a
 * client's. Install it as the last interceptor added, so it runs first.
 */
public final class WarmupInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> HEADER = Metadata.Key.of(WarmupSecret.HEADER, Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> WARMUP = Context.key("catena-warmup");

    private final WarmupSecret secret;

    public WarmupInterceptor(WarmupSecret secret) {
        this.secret = secret;
    }

    /** Whether the call being handled on this thread carries this process's secret. */
    public static boolean isWarmup() {
        return Boolean.TRUE.equals(WARMUP.get());
    }

    /** The metadata a warm-up call sends. */
    public static Metadata metadata(WarmupSecret secret) {
        Metadata m = new Metadata();
        m.put(HEADER, secret.value());
        return m;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String presented = headers.get(HEADER);
        if (presented != null) {
            headers.removeAll(HEADER);
            if (secret.matches(presented)) {
                return Contexts.interceptCall(Context.current().withValue(WARMUP, true), call, headers, next);
            }
        }
        return next.startCall(call, headers);
    }
}
