package catena.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The secret that marks a gateway's warm-up calls to itself: random per process, known only to
 * it, sent over loopback in the {@value #HEADER} header (gRPC metadata or HTTP). A transport that
 * sees it runs the call as a warm-up: past the API-key check (the gateway holds only the keys'
 * digests, no key to present) and outside the serving metrics. Anything else is a client's call.
 */
public final class WarmupSecret {
    /** The header (lower case, as gRPC metadata requires) that carries the secret. */
    public static final String HEADER = "catena-warmup";

    private final byte[] secret;

    public WarmupSecret() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        this.secret = HexFormat.of().formatHex(random).getBytes(StandardCharsets.US_ASCII);
    }

    /** The value to send. */
    public String value() {
        return new String(secret, StandardCharsets.US_ASCII);
    }

    /** Whether {@code presented} (null = absent) is this process's secret; in constant time. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.US_ASCII));
    }
}
