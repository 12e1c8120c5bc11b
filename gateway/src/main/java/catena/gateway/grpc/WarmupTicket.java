package catena.gateway.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Marks the gateway's own warm-up calls: a random secret made per process, which only the gateway
 * knows and sends to itself over loopback in {@code catena-warmup} metadata. Such a call runs like
 * any other but is not metered as traffic and passes the API-key check (the gateway holds no key
 * to present, only their digests). A missing or wrong value changes nothing: the call runs as a
 * client's. Install it as the last interceptor added, so it runs first.
 */
public final class WarmupTicket implements ServerInterceptor {
    static final Metadata.Key<String> HEADER = Metadata.Key.of("catena-warmup", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> WARMUP = Context.key("catena-warmup");

    private final byte[] secret;

    public WarmupTicket() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        this.secret = HexFormat.of().formatHex(random).getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether the call being handled on this thread carries this process's ticket. */
    public static boolean isWarmup() {
        return Boolean.TRUE.equals(WARMUP.get());
    }

    /** The metadata a warm-up call sends. */
    public Metadata metadata() {
        Metadata m = new Metadata();
        m.put(HEADER, new String(secret, StandardCharsets.US_ASCII));
        return m;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String presented = headers.get(HEADER);
        if (presented != null) {
            headers.removeAll(HEADER);
            // constant time: the secret must not leak through response timing
            if (MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.US_ASCII))) {
                return Contexts.interceptCall(Context.current().withValue(WARMUP, true), call, headers, next);
            }
        }
        return next.startCall(call, headers);
    }
}
