package catena.gateway.app;

import catena.gateway.cluster.PlanOwner;
import catena.gateway.grpc.ApiKeyInterceptor;
import catena.gateway.grpc.GrpcTls;
import catena.gateway.model.ServedModel;
import catena.gateway.plan.FleetPlanner;
import catena.gateway.security.Access;
import catena.gateway.security.ApiKeys;
import catena.gateway.security.TlsFiles;
import catena.shard.model.KvType;
import catena.worker.engine.StageEngineFactory;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code catena serve}: an embedded pipeline (default), or a gateway or worker node of a cluster. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over gRPC (catena.v1.Inference, health, reflection) and an"
                + " OpenAI-compatible HTTP API (--http-port).",
            "embedded (default): gateway and --replicas x --stages stages in this JVM.",
            "gateway: serves gRPC; the oldest gateway plans replicas x stages over the workers that join.",
            "worker: one stage; loads the layers the plan assigns; drains on SIGTERM."})
final class ServeCommand implements Callable<Integer> {
    enum Role { embedded, gateway, worker }

    @Option(names = "--role", description = "embedded, gateway or worker (default: ${DEFAULT-VALUE})")
    Role role = Role.embedded;

    @Option(names = "--model", paramLabel = "FILE",
            description = "GGUF to serve (embedded: default the built-in demo model; worker: the path it maps,"
                    + " default the gateway's path)")
    Path model;

    @Option(names = "--stages", description = "Pipeline stages, 1..layer count (default: ${DEFAULT-VALUE})")
    int stages = 1;

    @Option(names = "--replicas", paramLabel = "N|auto", description = "Pipeline replicas (each holds the whole"
            + " model in --stages stages): a number, or auto (gateway role: as many as the workers allow)"
            + " (default: ${DEFAULT-VALUE})")
    String replicas = "1";

    @Option(names = "--kv-memory", paramLabel = "SIZE|auto", description = "KV-cache memory of each stage (off the"
            + " heap), e.g. 512m or 2g; auto = the memory limit (the container's cgroup limit, else physical"
            + " memory) minus -Xmx, minus 384 MiB for the JVM outside the heap, minus the stage's weights,"
            + " split among the stages of this process (default: ${DEFAULT-VALUE})")
    String kvMemory = "auto";

    @Option(names = "--kv-type", paramLabel = "f32|f16|q8_0", description = "How KV caches store keys and values:"
            + " f32, f16 (half the bytes) or q8_0 (llama.cpp's 8-bit blocks, 0.27x; attention computed as its"
            + " flash attention does) (default: ${DEFAULT-VALUE})")
    String kvType = "f32";

    @Option(names = "--kv-block", description = "Token positions per KV block (default: ${DEFAULT-VALUE})")
    int kvBlock = 16;

    @Option(names = "--prefix-cache", paramLabel = "on|off", description = "Keep the KV of computed prompt blocks"
            + " for later prompts that start alike (default: ${DEFAULT-VALUE})")
    String prefixCache = "on";

    @Option(names = "--routing", paramLabel = "prefix|load", description = "How a gateway picks a replica: by"
            + " cached prompt prefix weighed against load, or by load only (default: ${DEFAULT-VALUE})")
    String routing = "prefix";

    @Option(names = "--max-batch-tokens", description = "Rows one stage pass takes at most, decoding rows included;"
            + " longer prompts are prefilled in chunks (default: ${DEFAULT-VALUE})")
    int maxBatchTokens = 256;

    @Option(names = "--prefill-ratio", description = "While sequences decode, prompt rows a pass takes per decoding"
            + " row (at least one KV block), so a long prompt slows each decoding stream's tokens to at most about"
            + " 1 + this times; 0 = only --max-batch-tokens limits them (default: ${DEFAULT-VALUE})")
    double prefillRatio = 2;

    @Option(names = "--max-waiting", description = "Sequences a stage keeps waiting for KV memory; more get"
            + " RESOURCE_EXHAUSTED with a retry hint (default: ${DEFAULT-VALUE})")
    int maxWaiting = 256;

    @Option(names = "--warmup", paramLabel = "ROUNDS", description = "Warm-up rounds (prefill, decode, batched decode)"
            + " a stage runs after loading, before it serves, so the first requests find compiled kernels; a"
            + " gateway then sends one round of generations to its own gRPC and HTTP endpoints before health"
            + " turns SERVING (not counted in the serving metrics); 0 = none (default: ${DEFAULT-VALUE})")
    int warmup = 2;

    @Option(names = "--memory", paramLabel = "SIZE|auto", description = "Memory a worker offers for weights + KV"
            + " (worker role; auto = what the machine or container has available) (default: ${DEFAULT-VALUE})")
    String memory = "auto";

    @Option(names = "--failover-wait", paramLabel = "MS", description = "How long a stream waits for a replica"
            + " after losing its own before it ends UNAVAILABLE (default: ${DEFAULT-VALUE})")
    long failoverWaitMs = 10_000;

    @Option(names = "--failure-detection", paramLabel = "MS", description = "Heartbeat pause after which a member"
            + " is unreachable: its replica is re-planned and its streams replay (default: ${DEFAULT-VALUE})")
    long failureDetectionMs = 1000;

    @Option(names = "--down-after", paramLabel = "MS", description = "How long an unreachable member stays before"
            + " it is downed (its restart can then rejoin; a dead gateway's sequences are freed)"
            + " (default: ${DEFAULT-VALUE})")
    long downAfterMs = 3000;

    @Option(names = "--port", description = "gRPC port, 0 = any free one (default: ${DEFAULT-VALUE})")
    int port = 50051;

    @Option(names = "--http-port", description = "OpenAI-compatible HTTP API (/v1/chat/completions,"
            + " /v1/completions, /v1/models) on this port, gateway and embedded roles; 0 = any free one,"
            + " -1 = off (default: ${DEFAULT-VALUE})")
    int httpPort = 8080;

    @Option(names = "--keep-f32", description = "Keep F32/F16/BF16 weights as F32 instead of quantizing to Q8_0")
    boolean keepF32;

    @Option(names = "--max-sessions", description = "Generations this gateway runs at once; more get"
            + " RESOURCE_EXHAUSTED (KV memory is admitted by the stages) (default: ${DEFAULT-VALUE})")
    int maxSessions = 1024;

    @Option(names = "--seed-nodes", split = ",", paramLabel = "HOST:PORT",
            description = "Pekko seed nodes of the cluster (gateway and worker roles), e.g. 127.0.0.1:2551")
    List<String> seedNodes = List.of();

    @Option(names = "--host", description = "Address this node's Pekko remoting binds and advertises"
            + " (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--pekko-port", description = "Pekko remoting port, 0 = any (seed nodes need a fixed one)"
            + " (default: ${DEFAULT-VALUE})")
    int pekkoPort = 0;

    @Option(names = "--link-port", description = "Workers: port of the activation link, a TCP connection that"
            + " carries ring messages (activations, sampled tokens) from the previous stage, off Pekko remoting;"
            + " 0 = any free port, -1 = none (ring over remoting). Off with --cluster-tls (default: ${DEFAULT-VALUE})")
    int linkPort = 0;

    @Option(names = "--metrics-port", description = "Serve Prometheus /metrics on this port (a gateway's covers"
            + " every stage of the cluster, a worker's its own stage and JVM; default: off)")
    Integer metricsPort;

    @Option(names = "--metrics-require-key", description = "With --api-key-file, /metrics also needs"
            + " 'Authorization: Bearer KEY' (default: open, on its own port for a private network; /ready stays open)")
    boolean metricsRequireKey;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Serve gRPC over TLS with this certificate chain"
            + " (with --tls-key)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The private key of --tls-cert (PKCS#8 PEM)")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "PEM", description = "Require client certificates signed by this"
            + " CA (mutual TLS; needs --tls-cert)")
    Path tlsClientCa;

    @Option(names = "--api-key-file", paramLabel = "FILE", description = "Accept only calls with 'authorization:"
            + " Bearer KEY' for a key of this file (one per line; re-read when it changes; health is exempt)")
    Path apiKeyFile;

    private Access access;

    @picocli.CommandLine.Mixin
    KubernetesOptions k8s = new KubernetesOptions();

    @Option(names = "--cluster-tls", paramLabel = "DIR", description = "Run cluster remoting over mutual TLS:"
            + " DIR holds tls.crt, tls.key (RSA, PEM) and ca.crt, as a Kubernetes TLS Secret mounted with its CA;"
            + " every node of the cluster needs it")
    Path clusterTls;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port=" + port + ", expected 0..65535");
        }
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("--http-port=" + httpPort + ", expected 0..65535 or -1 (off)");
        }
        if (maxSessions < 1) {
            throw new IllegalArgumentException("--max-sessions=" + maxSessions + ", expected >= 1");
        }
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new IllegalArgumentException("--metrics-port=" + metricsPort + ": expected 0..65535");
        }
        if (failoverWaitMs < 0) {
            throw new IllegalArgumentException("--failover-wait=" + failoverWaitMs + ", expected >= 0 (milliseconds)");
        }
        if (role == Role.worker && (tlsCert != null || tlsKey != null || (apiKeyFile != null && !metricsRequireKey))) {
            throw new IllegalArgumentException("--tls-cert, --tls-key and --api-key-file are for the gateway and embedded"
                    + " roles (a worker serves no client; --api-key-file with --metrics-require-key guards its /metrics)");
        }
        if (metricsRequireKey && (apiKeyFile == null || metricsPort == null)) {
            throw new IllegalArgumentException("--metrics-require-key needs --api-key-file and --metrics-port");
        }
        k8s.validate(role.name(), !seedNodes.isEmpty());
        if (role != Role.embedded && seedNodes.isEmpty() && !k8s.fromApi()) {
            throw new IllegalArgumentException("--role " + role + " needs --seed-nodes HOST:PORT[,...] or"
                    + " --discovery kubernetes-api");
        }
        CatenaNode node = switch (role) {
            case embedded -> embedded();
            case gateway -> gateway();
            case worker -> worker();
        };
        if (role != Role.embedded) {
            try {
                k8s.join(node.system());
            } catch (RuntimeException e) {
                node.close(); // e.g. the API refused the pod list (RBAC): stop, do not hang half-started
                throw e;
            } finally {
                k8s.closeWith(node.system());
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "catena-shutdown"));
        if (role != Role.worker && httpPort >= 0) {
            System.out.println("catena: OpenAI-compatible HTTP API on http://" + host + ":"
                    + node.serveOpenAi("0.0.0.0", httpPort, access()) + "/v1 (model \"" + node.servedModelName() + "\")");
        }
        if (metricsPort != null) {
            int bound = node.serveMetrics(metricsPort, metricsRequireKey ? metricsKeys() : null);
            System.out.println("catena: Prometheus metrics on http://" + host + ":" + bound
                    + "/metrics");
        }
        if (role != Role.worker) {
            node.startWarmup(); // every transport is bound: the warm-up can reach them all
        }
        node.awaitTermination();
        return 0;
    }

    private CatenaNode embedded() throws Exception {
        Path file = model;
        if (file == null) {
            file = DemoModel.ensure();
            System.out.println("catena: no --model given: serving the built-in demo model " + file);
            System.out.println("catena: its weights are RANDOM, so it produces nonsense text. To serve a real model:");
            System.out.println("catena:   ./catena serve --model path/to/model.gguf [--stages N]");
        }
        requireFile(file);
        int r = replicaCount();
        if (r == FleetPlanner.AUTO) {
            throw new IllegalArgumentException("--replicas=auto needs workers to count: in embedded mode give a number");
        }
        PlanOwner.Settings plan = PlanOwner.Settings.forModel(file, keepF32, stages, r, 0);
        CatenaNode node = CatenaNode.embedded(plan, r, ServedModel.open(file), engines(stages * r),
                stageSettings(), grpc(), gatewaySettings());
        announce(node, file);
        return node;
    }

    private CatenaNode gateway() throws Exception {
        if (model == null) {
            throw new IllegalArgumentException("--role gateway needs --model FILE (the GGUF the workers load)");
        }
        requireFile(model);
        PlanOwner.Settings plan = PlanOwner.Settings.forModel(model.toAbsolutePath(), keepF32, stages, replicaCount(),
                0);
        CatenaNode node = CatenaNode.gateway(plan, ServedModel.open(model), grpc(), gatewaySettings(), host, pekkoPort,
                seedNodes, timings(), clusterTls, k8s.autoscaling(stages));
        announce(node, model);
        return node;
    }

    private CatenaNode worker() throws Exception {
        Path own = model;
        if (own != null) {
            requireFile(own);
        }
        // A worker may map its own copy of the model (another mount path); the layers come from the plan.
        StageEngineFactory model = engines(1);
        StageEngineFactory engines = own == null ? model : (path, f32, from, to) -> model.open(own, f32, from, to);
        if (linkPort < -1 || linkPort > 65535) {
            throw new IllegalArgumentException("--link-port=" + linkPort + ", expected 0-65535 (0 = any free port)"
                    + " or -1 (no link)");
        }
        CatenaNode node = CatenaNode.worker(engines, stageSettings(), host, pekkoPort, seedNodes, timings(),
                clusterTls, linkPort);
        System.out.println("catena: worker " + node.system().address() + " up, waiting for the plan to assign"
                + " layers");
        return node;
    }

    private int replicaCount() {
        if (replicas.equalsIgnoreCase("auto")) {
            return FleetPlanner.AUTO;
        }
        try {
            int r = Integer.parseInt(replicas);
            if (r >= 1) {
                return r;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException("--replicas=" + replicas + ", expected a number >= 1 or auto");
    }

    /** Model slices with this command's KV type and budget; an auto budget split among {@code stagesInProcess}. */
    private StageEngineFactory engines(int stagesInProcess) {
        return StageEngineFactory.model(KvType.parse(kvType), Sizes.parse("--kv-memory", kvMemory), stagesInProcess);
    }

    private StageSettings stageSettings() {
        return new StageSettings(Sizes.parse("--kv-memory", kvMemory), kvBlock, maxBatchTokens, prefillRatio, kvBlock, maxWaiting,
                Sizes.parse("--memory", memory), warmup, switchOn("--prefix-cache", prefixCache));
    }

    private catena.worker.config.NodeConfig.Timings timings() {
        if (failureDetectionMs < 100 || downAfterMs < 0) {
            throw new IllegalArgumentException("--failure-detection=" + failureDetectionMs + ", --down-after="
                    + downAfterMs + ": expected >= 100 and >= 0 milliseconds");
        }
        return new catena.worker.config.NodeConfig.Timings(java.time.Duration.ofMillis(failureDetectionMs),
                java.time.Duration.ofMillis(downAfterMs));
    }

    private CatenaNode.GatewaySettings gatewaySettings() {
        double weight = switch (routing) {
            case "prefix" -> CatenaNode.GatewaySettings.DEFAULT_PREFIX_WEIGHT;
            case "load" -> 0;
            default -> throw new IllegalArgumentException("--routing=" + routing + ", expected prefix or load");
        };
        Access a = access();
        // One round warms the gateway's path (a restarted gateway's clients wait for it); stages take --warmup.
        return new CatenaNode.GatewaySettings(maxSessions, java.time.Duration.ofMillis(failoverWaitMs), weight,
                Math.min(warmup, 1),
                a.tls() == null ? io.grpc.InsecureChannelCredentials.create() : GrpcTls.selfCredentials(a.tls()));
    }

    private static boolean switchOn(String option, String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException(option + "=" + value + ", expected on or off");
        };
    }

    private ServerBuilder<?> grpc() {
        if (tlsClientCa != null && tlsCert == null) {
            throw new IllegalArgumentException("--tls-client-ca=" + tlsClientCa + " needs --tls-cert and --tls-key");
        }
        Access a = access();
        ServerCredentials credentials = a.tls() == null ? InsecureServerCredentials.create()
                : GrpcTls.serverCredentials(a.tls());
        ServerBuilder<?> b = Grpc.newServerBuilderForPort(port, credentials);
        if (a.keys() != null) {
            b.intercept(new ApiKeyInterceptor(a.keys()));
        }
        return b;
    }

    private ApiKeys metricsKeys() {
        if (role == Role.worker) {
            return apiKeyFile == null ? null : ApiKeys.load(apiKeyFile);
        }
        return access().keys();
    }

    /** The keys and TLS files of the options, read once for gRPC and HTTP. */
    private Access access() {
        if (access == null) {
            ApiKeys keys = null;
            if (apiKeyFile != null) {
                keys = ApiKeys.load(apiKeyFile);
                System.out.println("catena: " + keys.size() + " API key(s) from " + apiKeyFile
                        + " (re-read when it changes)");
            }
            access = new Access(keys, tlsCert == null && tlsKey == null ? null
                    : new TlsFiles(tlsCert, tlsKey, tlsClientCa));
        }
        return access;
    }

    private void announce(CatenaNode node, Path file) {
        System.out.println("catena: serving " + file.getFileName() + " in " + stages + " stage(s) x " + replicas
                + " replica(s); gRPC on port " + node.port() + " (health turns SERVING when a replica is loaded)");
        var announced = new java.util.concurrent.atomic.AtomicInteger();
        node.topology().listen(t -> {
            int ready = t.ready().size();
            if (ready > 0 && announced.getAndSet(ready) != ready) {
                System.out.println("catena: " + ready + " replica(s) ready; try: ./catena generate"
                        + " --target 127.0.0.1:" + node.port() + " \"Once upon a time\"");
            }
        });
    }

    private static void requireFile(Path file) throws NoSuchFileException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
    }
}
