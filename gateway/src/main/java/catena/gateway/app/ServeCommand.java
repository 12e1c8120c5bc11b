package catena.gateway.app;

import catena.gateway.cluster.PipelineCoordinator;
import catena.gateway.model.ServedModel;
import catena.shard.gguf.GgmlType;
import catena.shard.model.Model;
import catena.shard.synth.Presets;
import catena.shard.synth.Synth;
import catena.worker.engine.StageEngineFactory;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code catena serve}: runs an embedded pipeline, a cluster gateway, or a cluster worker. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a GGUF model over gRPC (catena.v1.Inference, health, reflection).")
final class ServeCommand implements Callable<Integer> {
    /** Seed of the built-in demo model's random weights. */
    static final long DEMO_SEED = 20261128L;
    private static volatile boolean serving;

    @Option(names = "--model", description = "GGUF file to serve (default: the built-in demo model, which produces nonsense).")
    Path model;

    @Option(names = "--stages", defaultValue = "1", description = "Pipeline stages, 1..layer count (default ${DEFAULT-VALUE}).")
    int stages;

    @Option(names = "--port", defaultValue = "50051", description = "gRPC port (default ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--keep-f32", description = "Keep F32/F16/BF16 weights as F32 instead of quantizing to Q8_0.")
    boolean keepF32;

    @Option(names = "--role", defaultValue = "embedded",
            description = "embedded (gateway + all stages in this JVM), gateway, or worker (default ${DEFAULT-VALUE}).")
    String role;

    @Option(names = "--seed-nodes", split = ",", description = "Cluster seed nodes host:port (gateway and worker roles).")
    List<String> seedNodes = List.of();

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Cluster address of this node (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--pekko-port", defaultValue = "0", description = "Cluster port of this node (0 = any; seeds need a fixed one).")
    int pekkoPort;

    @Option(names = "--max-sessions", defaultValue = "64", description = "Concurrent generations admitted (default ${DEFAULT-VALUE}).")
    int maxSessions;

    static boolean serving() {
        return serving;
    }

    @Override
    public Integer call() throws Exception {
        if (role.equals("worker")) {
            requireSeeds();
            CatenaNode node = CatenaNode.worker(StageEngineFactory.MODEL, host, pekkoPort, seedNodes);
            System.err.println("catena: worker joined as " + node.system().address() + "; waiting for layers");
            System.out.println("catena worker up on " + host + ":" + node.system().address().getPort().get());
            System.out.flush();
            serving = true;
            node.awaitTermination();
            return 0;
        }
        if (!role.equals("embedded") && !role.equals("gateway")) {
            throw new IllegalArgumentException("--role=" + role + ", expected embedded, gateway or worker");
        }
        Path file = model != null ? model : demoModel();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--model: no such file: " + file);
        }
        long[] layerBytes = Model.layerBytes(file);
        var settings = new PipelineCoordinator.Settings(file.toAbsolutePath(), keepF32, stages, layerBytes);
        ServedModel served = ServedModel.open(file);
        var grpc = NettyServerBuilder.forAddress(new InetSocketAddress(port));
        CatenaNode node;
        if (role.equals("gateway")) {
            requireSeeds();
            node = CatenaNode.gateway(settings, served, grpc, maxSessions, host, pekkoPort, seedNodes);
        } else {
            node = CatenaNode.embedded(settings, served, StageEngineFactory.MODEL, grpc, maxSessions);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "catena-shutdown"));
        System.out.println("catena serving " + served.name() + " (" + served.facts().layerCount() + " layers in "
                + stages + " stage(s), " + role + ") on port " + node.port());
        System.out.flush();
        serving = true;
        node.awaitTermination();
        return 0;
    }

    private void requireSeeds() {
        if (seedNodes.isEmpty()) {
            throw new IllegalArgumentException("--role=" + role + " needs --seed-nodes host:port[,...]");
        }
    }

    /** Writes (once) the built-in demo model: a deterministic random-weight Gemma 3. */
    private static Path demoModel() throws java.io.IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "catena-demo");
        Files.createDirectories(dir);
        Path file = dir.resolve("demo-tiny-" + DEMO_SEED + "-q8_0.gguf");
        if (!Files.exists(file)) {
            Path tmp = Files.createTempFile(dir, "demo", ".part");
            Synth.write(Presets.get("demo-tiny"), GgmlType.Q8_0, tmp, DEMO_SEED, 0);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        System.err.println("catena: no --model given: serving the built-in DEMO model (" + file + ").");
        System.err.println("catena: its weights are random, so it streams NONSENSE text. Serve a real Gemma GGUF with"
                + " --model FILE.");
        return file;
    }

    @Override
    public String toString() {
        return "serve " + Arrays.asList(model, stages, port, role);
    }
}
