package catena.gateway.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that turns gateway exceptions into gRPC statuses. */
final class StatusMapper {
    private static final Logger LOG = LoggerFactory.getLogger(StatusMapper.class);

    private StatusMapper() {
    }

    static StatusRuntimeException toStatus(Throwable e) {
        return switch (e) {
            case StatusRuntimeException s -> s;
            case InvalidRequestException i -> Status.INVALID_ARGUMENT.withDescription(i.getMessage()).asRuntimeException();
            case IllegalArgumentException i -> Status.INVALID_ARGUMENT.withDescription(i.getMessage()).asRuntimeException();
            case catena.gateway.bridge.ServiceUnavailableException u ->
                    Status.UNAVAILABLE.withDescription(u.getMessage()).asRuntimeException();
            case catena.gateway.bridge.OverloadedException o -> Status.RESOURCE_EXHAUSTED
                    .withDescription(o.getMessage() + " (retry after " + o.retryAfter().toMillis() + " ms)")
                    .asRuntimeException(RetryPushback.trailers(true, o.retryAfter()));
            default -> {
                String id = UUID.randomUUID().toString().substring(0, 8);
                LOG.error("internal error [{}]", id, e);
                yield Status.INTERNAL.withDescription("internal error (id " + id + ")").withCause(e)
                        .asRuntimeException();
            }
        };
    }
}
