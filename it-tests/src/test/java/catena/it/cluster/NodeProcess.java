package catena.it.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Catena node as a real JVM process ({@code catena serve ...}), started with the JVM flags of
 * the build and the test class path; its output goes to target/it-logs/NAME.log.
 */
final class NodeProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private NodeProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code catena.gateway.app.Main serve ARGS} in a new JVM. */
    static NodeProcess serve(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String flags = System.getProperty("catena.jvm.flags",
                "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
                        + " --sun-misc-unsafe-memory-access=allow");
        cmd.addAll(Arrays.asList(flags.trim().split("\\s+")));
        // Small heaps: up to four of these JVMs share the machine with the test JVM.
        cmd.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-Dlogback.configurationFile=logback.xml"));
        cmd.add("-cp");
        String cp = System.getProperty("surefire.test.class.path");
        cmd.add(cp != null ? cp : System.getProperty("java.class.path"));
        cmd.add("catena.gateway.app.Main");
        cmd.add("serve");
        cmd.addAll(Arrays.asList(args));
        Path logs = Path.of(System.getProperty("catena.it.logs", "target/it-logs"));
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new NodeProcess(name, p, log);
    }

    /** A free TCP port on loopback (closed again before the node binds it). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Kills the process with SIGKILL (as {@code kill -9}) and waits for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** Sends SIGTERM (as Kubernetes does before a pod is removed) without waiting. */
    void terminate() {
        process.destroy();
    }

    /** Waits up to {@code atMost} for the process to exit; whether it did. */
    boolean awaitExit(java.time.Duration atMost) throws InterruptedException {
        return process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The OS process id. */
    long pid() {
        return process.pid();
    }

    /** A free TCP port on loopback within [from, to) (gateways take low ports: see Cluster). */
    static int freePortIn(int from, int to) throws IOException {
        java.util.Random rnd = new java.util.Random();
        for (int i = 0; i < 200; i++) {
            int port = from + rnd.nextInt(to - from);
            try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException busy) {
                // try another
            }
        }
        throw new IOException("no free port in [" + from + ", " + to + ")");
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The node's output so far (for failure messages). */
    String output() {
        try {
            return name + " (" + log + "):\n" + Files.readString(log);
        } catch (IOException e) {
            return name + ": no log (" + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
