package catena.gateway.grpc;

import catena.gateway.security.ApiKeys;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;

/**
 * Lets a call through only with {@code authorization: Bearer KEY} metadata naming a key of
 * {@link ApiKeys}; otherwise {@code UNAUTHENTICATED}. Health checks are exempt: Kubernetes probes
 * and load balancers carry no key; so are the gateway's own warm-up calls ({@link WarmupInterceptor}).
 */
public final class ApiKeyInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ApiKeys keys;

    public ApiKeyInterceptor(ApiKeys keys) {
        this.keys = keys;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName()) || WarmupInterceptor.isWarmup()) {
            return next.startCall(call, headers);
        }
        String value = headers.get(AUTHORIZATION);
        String problem;
        if (value == null) {
            problem = "no API key: send the metadata 'authorization: Bearer <key>'";
        } else if (ApiKeys.bearer(value) == null) {
            problem = "metadata 'authorization' must be 'Bearer <key>'";
        } else if (!keys.accepts(ApiKeys.bearer(value))) {
            problem = "the API key in 'authorization' is not one of the server's keys";
        } else {
            return next.startCall(call, headers);
        }
        call.close(Status.UNAUTHENTICATED.withDescription(problem), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
