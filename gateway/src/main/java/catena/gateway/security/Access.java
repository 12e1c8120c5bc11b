package catena.gateway.security;

/**
 * Who may reach a gateway and how: API keys (null = every caller) and the TLS files its servers
 * present (null = plaintext). One instance serves gRPC and HTTP alike, so a key file is read once.
 */
public record Access(ApiKeys keys, TlsFiles tls) {
    /** No keys, no TLS. */
    public static final Access OPEN = new Access(null, null);
}
