package catena.it.cluster;

import static org.awaitility.Awaitility.await;

import catena.v1.InferenceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway JVM (also the Pekko seed node) plus worker JVMs on 127.0.0.1, and a gRPC channel to
 * the gateway. Closing stops every process.
 */
final class Cluster implements AutoCloseable {
    private final Path model;
    private final int stages;
    private final int seedPort;
    private final int grpcPort;
    private final NodeProcess gateway;
    private final List<NodeProcess> workers = new ArrayList<>();
    private final ManagedChannel channel;

    private Cluster(Path model, int stages) throws IOException {
        this.model = model;
        this.stages = stages;
        this.seedPort = NodeProcess.freePort();
        this.grpcPort = NodeProcess.freePort();
        this.gateway = NodeProcess.serve("gateway-" + stages + "-stages", "--role", "gateway", "--model",
                model.toAbsolutePath().toString(), "--stages", String.valueOf(stages), "--port",
                String.valueOf(grpcPort), "--pekko-port", String.valueOf(seedPort), "--seed-nodes", seed());
        this.channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpcPort, InsecureChannelCredentials.create())
                .build();
    }

    /** Starts the gateway only; add workers with {@link #addWorker()}. */
    static Cluster gateway(Path model, int stages) throws IOException {
        return new Cluster(model, stages);
    }

    /** Starts the gateway and {@code stages} workers and waits until health says SERVING. */
    static Cluster serving(Path model, int stages) throws IOException {
        Cluster c = new Cluster(model, stages);
        try {
            for (int i = 0; i < stages; i++) {
                c.addWorker();
            }
            c.awaitServing(Duration.ofSeconds(90));
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    private String seed() {
        return "127.0.0.1:" + seedPort;
    }

    void addWorker() throws IOException {
        workers.add(NodeProcess.serve("worker-" + workers.size() + "-of-" + stages, "--role", "worker",
                "--seed-nodes", seed(), "--model", model.toAbsolutePath().toString()));
    }

    int grpcPort() {
        return grpcPort;
    }

    ManagedChannel channel() {
        return channel;
    }

    InferenceGrpc.InferenceBlockingStub stub() {
        return InferenceGrpc.newBlockingStub(channel);
    }

    /** Health of "" (every service); UNKNOWN while the gateway does not answer yet. */
    ServingStatus health() {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } catch (io.grpc.StatusRuntimeException e) {
            return ServingStatus.UNKNOWN;
        }
    }

    void awaitServing(Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!gateway.isAlive()) {
                    throw new AssertionError("the gateway exited:\n" + gateway.output());
                }
                return health() == ServingStatus.SERVING;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the pipeline did not turn SERVING within " + atMost + "\n" + logs(), e);
        }
    }

    /** Every node's output (for failure messages). */
    String logs() {
        StringBuilder b = new StringBuilder(gateway.output());
        workers.forEach(w -> b.append('\n').append(w.output()));
        return b.toString();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        workers.forEach(NodeProcess::close);
        gateway.close();
    }
}
