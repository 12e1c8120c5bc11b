package catena.gateway.app;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code catena health}: asks a gateway's gRPC health service whether it serves (a pipeline
 * replica is loaded). With {@code --wait}, asks every second until it does or the time is up:
 * what the chart's {@code helm test} pod runs before its generation.
 */
@Command(name = "health", mixinStandardHelpOptions = true,
        description = "Check a Catena server's gRPC health (exit 0 when SERVING, 1 otherwise).")
final class HealthCommand implements Callable<Integer> {
    static final int NOT_SERVING = 1;

    @Mixin
    ClientConnection connection = new ClientConnection();

    @Option(names = "--target", description = "Server host:port (default: ${DEFAULT-VALUE})")
    String target = "127.0.0.1:50051";

    @Option(names = "--wait", paramLabel = "DURATION", description = "Keep asking every second for this long"
            + " until SERVING, e.g. 5m (default: ask once)")
    String waitFor = "0s";

    @Override
    public Integer call() throws Exception {
        Duration wait = Durations.parse("--wait", waitFor);
        long deadline = System.nanoTime() + wait.toNanos();
        ManagedChannel channel = connection.open(target);
        try {
            var stub = HealthGrpc.newBlockingStub(channel);
            String last;
            while (true) {
                try {
                    HealthCheckResponse r = stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.getDefaultInstance());
                    last = r.getStatus().name();
                    if (r.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                        System.out.println("catena: " + target + " is SERVING");
                        return 0;
                    }
                } catch (StatusRuntimeException e) {
                    last = e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
                            : " (" + e.getStatus().getDescription() + ")");
                }
                if (System.nanoTime() >= deadline) {
                    System.err.println("catena: " + target + " is not serving: " + last);
                    return NOT_SERVING;
                }
                Thread.sleep(1000);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
