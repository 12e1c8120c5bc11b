package catena.it.cluster;

import static org.awaitility.Awaitility.await;

import catena.v1.GetModelInfoRequest;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import catena.v1.PipelineStats;
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
 * Gateway JVMs and worker JVMs on 127.0.0.1 forming one Pekko cluster, with a gRPC channel to each
 * gateway. Seed rules (the README's): every node is given the same two seeds, the first gateway
 * and the first worker, both on fixed ports, so any single process can restart and rejoin the
 * running cluster through the other; gateways take lower ports than workers, so that in a
 * two-node cluster the split-brain resolver keeps the gateway when the worker dies. Closing stops
 * every process.
 */
final class Cluster implements AutoCloseable {
    private final Path model;
    private final int stages;
    private final String replicas;
    private final List<String> extraArgs;
    private final int workerSeedPort;
    private final List<Gateway> gateways = new ArrayList<>();
    private final List<NodeProcess> workers = new ArrayList<>();
    private final List<Integer> workerMetricsPorts = new ArrayList<>();
    private int workersStarted;

    /** One gateway JVM: its ports, process and channel. */
    final class Gateway {
        final int pekkoPort;
        final int grpcPort;
        NodeProcess process;
        ManagedChannel channel;
        int starts;

        Gateway(int pekkoPort, int grpcPort) {
            this.pekkoPort = pekkoPort;
            this.grpcPort = grpcPort;
        }

        void start() throws IOException {
            List<String> args = new ArrayList<>(List.of("--role", "gateway", "--model",
                    model.toAbsolutePath().toString(), "--stages", String.valueOf(stages), "--replicas", replicas,
                    "--port", String.valueOf(grpcPort), "--pekko-port", String.valueOf(pekkoPort), "--seed-nodes",
                    seeds(),
                    // Several gateways share the machine: the HTTP API's default port 8080 would clash.
                    "--http-port", "-1"));
            args.addAll(extraArgs);
            process = NodeProcess.serve("gateway-" + gateways.indexOf(this) + "-start-" + (starts++) + "-" + stages
                    + "x" + replicas, args.toArray(String[]::new));
            if (channel == null) {
                channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpcPort, InsecureChannelCredentials.create())
                        .build();
            }
        }

        InferenceGrpc.InferenceBlockingStub stub() {
            return InferenceGrpc.newBlockingStub(channel);
        }

        ServingStatus health() {
            try {
                return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
            } catch (io.grpc.StatusRuntimeException e) {
                return ServingStatus.UNKNOWN;
            }
        }
    }

    private Cluster(Path model, int stages, String replicas, List<String> extraArgs) throws IOException {
        this.model = model;
        this.stages = stages;
        this.replicas = replicas;
        this.extraArgs = List.copyOf(extraArgs);
        this.workerSeedPort = NodeProcess.freePortIn(25000, 30000);
        addGateway();
    }

    /** Starts one gateway only; add workers with {@link #addWorker()}. */
    static Cluster gateway(Path model, int stages) throws IOException {
        return new Cluster(model, stages, "1", List.of());
    }

    /** Starts one gateway planning {@code stages} x {@code replicas}, with extra arguments for the gateways. */
    static Cluster gateway(Path model, int stages, String replicas, String... extraArgs) throws IOException {
        return new Cluster(model, stages, replicas, List.of(extraArgs));
    }

    /** Starts the gateway and {@code stages} workers and waits until health says SERVING. */
    static Cluster serving(Path model, int stages) throws IOException {
        Cluster c = new Cluster(model, stages, "1", List.of());
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

    private String seeds() {
        return "127.0.0.1:" + gateways.getFirst().pekkoPort + ",127.0.0.1:" + workerSeedPort;
    }

    /** Starts another gateway JVM on new ports; returns it. */
    Gateway addGateway() throws IOException {
        Gateway g = new Gateway(NodeProcess.freePortIn(20000, 25000), NodeProcess.freePort());
        gateways.add(g);
        g.start();
        return g;
    }

    /** Starts a worker JVM (the first one on the fixed seed port); returns its index. */
    int addWorker() throws IOException {
        int port = workersStarted == 0 ? workerSeedPort : 0;
        int metrics = NodeProcess.freePort();
        workerMetricsPorts.add(metrics);
        List<String> args = new ArrayList<>(List.of("--role", "worker", "--seed-nodes", seeds(), "--model",
                model.toAbsolutePath().toString(), "--pekko-port", String.valueOf(port), "--metrics-port",
                String.valueOf(metrics)));
        workers.add(NodeProcess.serve("worker-" + (workersStarted++) + "-" + stages + "x" + replicas,
                args.toArray(String[]::new)));
        return workers.size() - 1;
    }

    /** The port of worker {@code i}'s own Prometheus /metrics. */
    int workerMetricsPort(int i) {
        return workerMetricsPorts.get(i);
    }

    NodeProcess worker(int i) {
        return workers.get(i);
    }

    List<NodeProcess> workers() {
        return workers;
    }

    Gateway gatewayAt(int i) {
        return gateways.get(i);
    }

    int grpcPort() {
        return gateways.getFirst().grpcPort;
    }

    ManagedChannel channel() {
        return gateways.getFirst().channel;
    }

    InferenceGrpc.InferenceBlockingStub stub() {
        return gateways.getFirst().stub();
    }

    ModelInfo info() {
        return stub().getModelInfo(GetModelInfoRequest.getDefaultInstance());
    }

    PipelineStats stats() {
        return stub().getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
    }

    /** Health of "" (every service) at the first gateway; UNKNOWN while it does not answer. */
    ServingStatus health() {
        return gateways.getFirst().health();
    }

    void awaitServing(Duration atMost) {
        awaitReplicas(1, atMost);
    }

    /** Waits until the first gateway reports {@code n} ready replicas (and SERVING). */
    void awaitReplicas(int n, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> {
                for (Gateway g : gateways) {
                    if (!g.process.isAlive() && g == gateways.getFirst()) {
                        throw new AssertionError("the gateway exited:\n" + g.process.output());
                    }
                }
                if (health() != ServingStatus.SERVING) {
                    return false;
                }
                return info().getReplicasList().stream().filter(r -> r.getReady()).count() >= n;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(n + " replica(s) did not turn ready within " + atMost + "\n" + logs(), e);
        }
    }

    /** The worker process whose Pekko address ends with {@code :port} as GetModelInfo reports it. */
    NodeProcess workerAt(String address) {
        for (NodeProcess w : workers) {
            if (w.isAlive() && w.output().contains("catena: worker " + address + " up")) {
                return w;
            }
        }
        throw new AssertionError("no live worker at " + address + "\n" + logs());
    }

    /** Every node's output (for failure messages). */
    String logs() {
        StringBuilder b = new StringBuilder();
        gateways.forEach(g -> b.append(g.process.output()).append('\n'));
        workers.forEach(w -> b.append('\n').append(w.output()));
        return b.toString();
    }

    @Override
    public void close() {
        for (Gateway g : gateways) {
            if (g.channel != null) {
                g.channel.shutdownNow();
            }
        }
        workers.forEach(NodeProcess::close);
        gateways.forEach(g -> g.process.close());
    }
}
