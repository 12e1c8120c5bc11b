package catena.gateway.bridge;

import java.time.Duration;

/** Every replica is full and the admission queue too; the client should retry after {@code retryAfter}. */
public final class OverloadedException extends RuntimeException {
    private final Duration retryAfter;

    public OverloadedException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    /** How long a client should wait before retrying. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
