package catena.gateway.session;

/**
 * Why a generation could not continue, in domain terms; the transport adapters map the kind to
 * their status (gRPC code, HTTP status) and pass the message on unchanged.
 */
public record GenerationFailure(Kind kind, String message, java.time.Duration retryAfter) {
    /** How long a client should wait before retrying a request refused for room (the stages hold no more). */
    public static final java.time.Duration ROOM_RETRY = java.time.Duration.ofSeconds(1);

    /** A failure with no retry advice: {@code retryAfter} is null. */
    public GenerationFailure(Kind kind, String message) {
        this(kind, message, null);
    }

    /** What kind of failure, which decides whether a client may retry. */
    public enum Kind {
        /** No replica can run it now (stages lost or loading); retrying later may succeed. */
        UNAVAILABLE,
        /** Every replica is full and its queue too; retry after a while. */
        RESOURCE_EXHAUSTED,
        /** A broken invariant or compute error; the message carries an id that is also in the log. */
        INTERNAL
    }
}
