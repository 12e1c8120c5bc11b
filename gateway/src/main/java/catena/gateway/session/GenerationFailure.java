package catena.gateway.session;

/**
 * Why a generation could not continue, in domain terms; the transport adapters map the kind to
 * their status (gRPC code, HTTP status) and pass the message on unchanged.
 */
public record GenerationFailure(Kind kind, String message) {

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
