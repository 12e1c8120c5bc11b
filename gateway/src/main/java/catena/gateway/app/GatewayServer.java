package catena.gateway.app;

import catena.gateway.bridge.GenerationClient;
import catena.gateway.grpc.InferenceService;
import catena.gateway.grpc.Utf8Guard;
import catena.gateway.model.ServedModel;
import catena.v1.InferenceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server: {@code catena.v1.Inference}, {@code grpc.health.v1.Health} (for "" and for the
 * Inference service, as {@link #serving} says: NOT_SERVING until then) and server reflection. Takes a ServerBuilder so tests can use in-process servers.
 */
public final class GatewayServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();

    public GatewayServer(ServerBuilder<?> builder, ServedModel model, GenerationClient client) {
        // HealthStatusManager starts "" at SERVING: not until the pipeline is loaded.
        setHealth(ServingStatus.NOT_SERVING);
        this.server = builder
                .addService(Utf8Guard.guard(new InferenceService(model, client).bindService()))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build();
    }

    /** What health reports from now on. */
    public void serving(boolean serving) {
        setHealth(serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }

    private void setHealth(ServingStatus status) {
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        health.setStatus(InferenceGrpc.SERVICE_NAME, status);
    }

    public GatewayServer start() throws IOException {
        server.start();
        return this;
    }

    /** The port bound (useful with port 0). */
    public int port() {
        return server.getPort();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(30, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
