package catena.it;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gateway JVM and worker JVMs started as real processes ({@code catena serve --role ...}) on
 * 127.0.0.1: the gateway is the cluster's seed node; each worker holds one stage. Output of each
 * process goes to target/it-logs/.
 */
final class LocalCluster implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final int pekkoPort;
    private final int grpcPort;
    private final Path logs;
    private final String name;
    private ManagedChannel channel;

    private LocalCluster(String name) throws IOException {
        this.name = name;
        this.pekkoPort = freePort();
        this.grpcPort = freePort();
        this.logs = Path.of("target", "it-logs");
        Files.createDirectories(logs);
    }

    /** Starts the gateway of a {@code stages}-stage pipeline serving {@code model}. */
    static LocalCluster gateway(String name, Path model, int stages, boolean keepF32) throws IOException {
        LocalCluster c = new LocalCluster(name);
        List<String> args = new ArrayList<>(List.of("serve", "--role", "gateway", "--model", model.toString(),
                "--stages", String.valueOf(stages), "--port", String.valueOf(c.grpcPort),
                "--pekko-port", String.valueOf(c.pekkoPort), "--seed-nodes", "127.0.0.1:" + c.pekkoPort));
        if (keepF32) {
            args.add("--keep-f32");
        }
        c.start("gateway", args);
        return c;
    }

    /** Starts {@code n} worker JVMs joining the gateway. */
    LocalCluster workers(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            start("worker-" + i, List.of("serve", "--role", "worker", "--pekko-port", "0",
                    "--seed-nodes", "127.0.0.1:" + pekkoPort));
        }
        return this;
    }

    private void start(String role, List<String> args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx512m",
                "-XX:+UseSerialGC", "-cp", classPath(), "catena.gateway.app.Main"));
        cmd.addAll(args);
        File log = logs.resolve(name + "-" + role + ".log").toFile();
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start());
    }

    /** A plaintext channel to the gateway (created once). */
    ManagedChannel channel() {
        if (channel == null) {
            channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        }
        return channel;
    }

    /** Waits until the gateway answers health checks at all (it may still be NOT_SERVING). */
    LocalCluster awaitGrpc(io.grpc.health.v1.HealthGrpc.HealthBlockingStub health) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> health.check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()) != null);
        return this;
    }

    /** The test class path (failsafe runs tests from a manifest-only jar, so java.class.path is not it). */
    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null ? cp : System.getProperty("java.class.path");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
