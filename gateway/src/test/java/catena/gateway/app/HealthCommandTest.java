package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import org.junit.jupiter.api.Test;

/** {@code catena health}, the check the chart's test hook runs, against a real gRPC health service. */
class HealthCommandTest {

    @Test
    void shouldExitZeroOnlyWhenTheServerReportsServing() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
        Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(health.getHealthService()).build().start();
        try {
            String target = "127.0.0.1:" + server.getPort();
            assertThat(Main.run("health", "--target", target)).isEqualTo(HealthCommand.NOT_SERVING);
            health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
            assertThat(Main.run("health", "--target", target, "--wait", "30s")).isZero();
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void shouldExitOneWhenNothingListens() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(Main.run("health", "--target", "127.0.0.1:" + port)).isEqualTo(HealthCommand.NOT_SERVING);
    }
}
