package catena.gateway.openai;

import catena.gateway.bridge.OverloadedException;
import catena.gateway.bridge.ServiceUnavailableException;
import catena.gateway.session.GenerationFailure;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that turns gateway exceptions and session failures into API errors (HTTP status + body). */
final class Errors {
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);
    /** What a client is told to wait when a session reports exhaustion without a hint. */
    static final Duration DEFAULT_RETRY = Duration.ofSeconds(1);

    private Errors() {
    }

    static ApiError of(Throwable e) {
        return switch (e) {
            case CompletionException c when c.getCause() != null -> of(c.getCause());
            case ApiError a -> a;
            case org.apache.pekko.http.scaladsl.model.EntityStreamSizeException big -> new ApiError(413,
                    "invalid_request_error", null, "request_too_large", "request body exceeds "
                    + OpenAiServer.MAX_BODY_BYTES + " bytes", null);
            case ServiceUnavailableException u -> ApiError.unavailable(u.getMessage());
            case OverloadedException o -> ApiError.overloaded(o.getMessage(), o.retryAfter());
            case IllegalArgumentException i -> ApiError.badRequest(null, i.getMessage());
            default -> {
                String id = UUID.randomUUID().toString().substring(0, 8);
                LOG.error("internal error [{}]", id, e);
                yield ApiError.internal(id);
            }
        };
    }

    static ApiError of(GenerationFailure f) {
        return switch (f.kind()) {
            case UNAVAILABLE -> ApiError.unavailable(f.message());
            case RESOURCE_EXHAUSTED -> ApiError.overloaded(f.message(), DEFAULT_RETRY);
            case INTERNAL -> new ApiError(500, "server_error", null, null, f.message(), null);
        };
    }
}
