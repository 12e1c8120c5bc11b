package catena.gateway.app;

import catena.gateway.grpc.WarmupInterceptor;
import catena.gateway.metrics.ServingMetrics;
import catena.gateway.security.Access;
import catena.gateway.security.ApiKeys;
import catena.gateway.security.PinnedTrust;
import catena.gateway.security.WarmupSecret;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import catena.gateway.bridge.ActorGenerationClient;
import catena.gateway.bridge.GenerationClient;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.cluster.TopologySubscriber;
import catena.gateway.cluster.WorkerAutoscaler;
import catena.gateway.cluster.TopologyView;
import catena.gateway.model.ServedModel;
import catena.gateway.openai.OpenAiServer;
import catena.worker.actor.StageActor;
import catena.worker.config.NodeConfig;
import catena.worker.engine.StageEngineFactory;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * A running Catena node: an actor system plus, for the gateway roles, the gRPC server.
 * Embedded = gateway, plan owner and replicas × stages in one JVM; gateway = a member of the
 * cluster that serves gRPC, reads the topology and may host the plan owner (a Cluster Singleton
 * on the gateway role); worker = one stage, assigned by the plan owner, drained on shutdown.
 */
public final class CatenaNode implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final GatewayServer server;
    private final TopologyView view;
    private final GenerationClient client;
    private final ServedModel model;
    private final List<ExecutorService> executors;
    private final PrometheusMeterRegistry registry;
    private final Supplier<CompletionStage<List<StageActor.StageStats>>> stageReports;
    private MetricsServer metrics;
    private OpenAiServer openAi;
    /** A worker's readiness (its stage loaded or a spare; not loading, not draining); null elsewhere. */
    private java.util.function.BooleanSupplier workerReady;
    /** A gateway's readiness (a replica ready and its own warm-up done); null on workers. */
    private GatewayWarmup warmup;

    private CatenaNode(ActorSystem<Void> system, GatewayServer server, TopologyView view, GenerationClient client,
                       ServedModel model, List<ExecutorService> executors, PrometheusMeterRegistry registry,
                       Supplier<CompletionStage<List<StageActor.StageStats>>> stageReports) {
        this.system = system;
        this.model = model;
        this.server = server;
        this.view = view;
        this.client = client;
        this.executors = executors;
        this.registry = registry;
        this.stageReports = stageReports;
    }

    /** A registry with the JVM's and the process's own meters. */
    private static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(r);
        new JvmGcMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        return r;
    }

    /**
     * How a gateway behaves: its admission bound, how long sessions wait for a replica, the
     * routing's prefix weight, and its warm-up: {@code warmupRounds} rounds of generations sent to
     * its own gRPC endpoint (with {@code selfCredentials}) and HTTP API before it reports SERVING (0 =
     * none; otherwise SERVING waits for {@link CatenaNode#startWarmup()}).
     */
    public record GatewaySettings(int maxSessions, Duration failoverWait, double prefixWeight, int warmupRounds,
                                  ChannelCredentials selfCredentials) {
        /** Sequences of load a fully cached prompt is worth when routing (see catena.gateway.route.Router). */
        public static final double DEFAULT_PREFIX_WEIGHT = 8;

        public GatewaySettings {
            if (maxSessions < 1) {
                throw new IllegalArgumentException("maxSessions=" + maxSessions + ", expected >= 1");
            }
            if (warmupRounds < 0) {
                throw new IllegalArgumentException("--warmup=" + warmupRounds + ", expected >= 0 (0 = no warm-up)");
            }
        }

        /** No gateway warm-up. */
        public GatewaySettings(int maxSessions, Duration failoverWait, double prefixWeight) {
            this(maxSessions, failoverWait, prefixWeight, 0, InsecureChannelCredentials.create());
        }

        /** Prefix-aware routing with the default weight, no gateway warm-up. */
        public GatewaySettings(int maxSessions, Duration failoverWait) {
            this(maxSessions, failoverWait, DEFAULT_PREFIX_WEIGHT);
        }
    }

    /** Serves Prometheus {@code /metrics} on {@code port} (gateway roles; 0 = any free port); returns the port. */
    public synchronized int serveMetrics(int port) throws IOException {
        return serveMetrics(port, null);
    }

    /** As {@link #serveMetrics(int)}; with {@code keys}, {@code /metrics} answers only a bearer key of them. */
    public synchronized int serveMetrics(int port, ApiKeys keys) throws IOException {
        if (metrics == null) {
            metrics = MetricsServer.start(port, registry, stageReports, warmup != null ? warmup::serving : workerReady,
                    keys);
        }
        return metrics.port();
    }

    /** This node's meters (what {@code /metrics} shows, apart from the stages' reports). */
    public PrometheusMeterRegistry meters() {
        return registry;
    }

    /**
     * Serves the OpenAI-compatible HTTP API on {@code host:port} (gateway roles; 0 = any free port)
     * through the same generation client as gRPC; returns the port.
     */
    public synchronized int serveOpenAi(String host, int port, Access access) {
        if (client == null) {
            throw new IllegalStateException("the HTTP API is served by the gateway roles");
        }
        if (openAi == null) {
            openAi = OpenAiServer.start(system, host, port, model, client, access, warmup.secret());
            warmup.http(new GatewayWarmup.HttpEndpoint(openAi.port(), access.tls() == null ? null
                    : PinnedTrust.clientContext(access.tls().certChain()), model.name()));
        }
        return openAi.port();
    }

    /**
     * Gateway, plan owner and {@code replicas × plan.stages()} stages in this JVM, serving gRPC from
     * {@code grpc}; each stage runs its passes on its own compute thread.
     */
    public static CatenaNode embedded(PlanOwner.Settings plan, int replicas, ServedModel model,
                                      StageEngineFactory engines, StageSettings stage, ServerBuilder<?> grpc,
                                      GatewaySettings gateway) throws IOException {
        TopologyView view = new TopologyView();
        List<ExecutorService> executors = new ArrayList<>();
        int stages = plan.stages() * replicas;
        for (int i = 0; i < stages; i++) {
            executors.add(computeExecutor("catena-stage-" + i));
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (int i = 0; i < stages; i++) {
                ActorRef<StageActor.Command> s = ctx.spawn(StageActor.create(engines,
                        stage.toActorSettings(Long.MAX_VALUE / 4, executors.get(i))), "stage-" + i);
                ctx.getSystem().receptionist().tell(Receptionist.register(StageActor.SERVICE_KEY, s));
            }
            ctx.spawn(PlanOwner.create(plan), "plan-owner");
            ctx.spawn(TopologySubscriber.create(view), "topology");
            return Behaviors.empty();
        }), NodeConfig.SYSTEM_NAME, NodeConfig.embedded());
        return withServer(system, view, model, grpc, gateway, new java.util.Random().nextLong(), executors);
    }

    /** {@link #embedded(PlanOwner.Settings, int, ServedModel, StageEngineFactory, StageSettings, ServerBuilder,
     * GatewaySettings)} with {@code plan.replicas()} replicas, default stage settings and a 10 s failover wait. */
    public static CatenaNode embedded(PlanOwner.Settings plan, ServedModel model, StageEngineFactory engines,
                                      ServerBuilder<?> grpc, int maxSessions) throws IOException {
        return embedded(plan, Math.max(1, plan.replicas()), model, engines, StageSettings.defaults(), grpc,
                new GatewaySettings(maxSessions, Duration.ofSeconds(10)));
    }

    /** A gateway of a cluster: hosts the plan owner singleton when it is the oldest gateway, serves gRPC. */
    public static CatenaNode gateway(PlanOwner.Settings plan, ServedModel model, ServerBuilder<?> grpc,
                                     GatewaySettings gateway, String host, int pekkoPort, List<String> seeds,
                                     NodeConfig.Timings timings, Path clusterTls) throws IOException {
        return gateway(plan, model, grpc, gateway, host, pekkoPort, seeds, timings, clusterTls, null);
    }

    /**
     * As {@link #gateway(PlanOwner.Settings, ServedModel, ServerBuilder, GatewaySettings, String, int, List,
     * NodeConfig.Timings, Path)}; with {@code autoscaling}, the plan owner runs the worker autoscaler as its
     * child (so exactly one runs in the cluster, wherever the singleton is).
     */
    public static CatenaNode gateway(PlanOwner.Settings plan, ServedModel model, ServerBuilder<?> grpc,
                                     GatewaySettings gateway, String host, int pekkoPort, List<String> seeds,
                                     NodeConfig.Timings timings, Path clusterTls,
                                     WorkerAutoscaler.Settings autoscaling) throws IOException {
        TopologyView view = new TopologyView();
        Behavior<PlanOwner.Command> owner = autoscaling == null ? PlanOwner.create(plan)
                : Behaviors.setup(ctx -> {
                    ctx.spawn(WorkerAutoscaler.create(autoscaling), "worker-autoscaler");
                    return PlanOwner.create(plan);
                });
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            ClusterSingleton.get(ctx.getSystem()).init(SingletonActor.of(owner, "plan-owner")
                    .withSettings(ClusterSingletonSettings.create(ctx.getSystem()).withRole("gateway")));
            ctx.spawn(TopologySubscriber.create(view), "topology");
            return Behaviors.empty();
        }), NodeConfig.SYSTEM_NAME, remoting(NodeConfig.cluster("gateway", host, pekkoPort, seeds, timings), clusterTls));
        long uid = Cluster.get(system).selfMember().uniqueAddress().longUid();
        return withServer(system, view, model, grpc, gateway, uid, List.of());
    }

    /**
     * A worker of a cluster: one stage registered with the Receptionist. On shutdown (SIGTERM) it
     * drains before leaving the cluster: the plan owner plans without it, its sequences move.
     */
    public static CatenaNode worker(StageEngineFactory engines, StageSettings stage, String host, int pekkoPort,
                                    List<String> seeds, NodeConfig.Timings timings, Path clusterTls) {
        return worker(engines, stage, host, pekkoPort, seeds, timings, clusterTls, 0);
    }

    /**
     * As {@link #worker(StageEngineFactory, StageSettings, String, int, List, NodeConfig.Timings, Path)}, the
     * stage taking ring messages on an activation link at {@code host:linkPort} (0 = any free port, -1 = none).
     * Never with {@code clusterTls}: the link is plain TCP, and a cluster that asked for TLS gets it on
     * every byte.
     */
    public static CatenaNode worker(StageEngineFactory engines, StageSettings stage, String host, int pekkoPort,
                                    List<String> seeds, NodeConfig.Timings timings, Path clusterTls, int linkPort) {
        ExecutorService compute = computeExecutor("catena-stage");
        var stageRef = new CompletableFuture<ActorRef<StageActor.Command>>();
        StageActor.Link link = clusterTls != null || linkPort < 0 ? null : new StageActor.Link(host, linkPort);
        Behavior<Void> root = Behaviors.setup(ctx -> {
            ActorRef<StageActor.Command> s = ctx.spawn(StageActor.create(engines,
                    stage.toActorSettings(stage.advertisedMemory(), compute, link)), "stage");
            ctx.getSystem().receptionist().tell(Receptionist.register(StageActor.SERVICE_KEY, s));
            stageRef.complete(s);
            return Behaviors.empty();
        });
        ActorSystem<Void> system = ActorSystem.create(root, NodeConfig.SYSTEM_NAME,
                remoting(NodeConfig.cluster("worker", host, pekkoPort, seeds, timings), clusterTls));
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "catena-drain",
                () -> stageRef.thenCompose(s -> AskPattern.<StageActor.Command, Done>ask(s, StageActor.Drain::new,
                        Duration.ofSeconds(30), system.scheduler())).exceptionally(e -> Done.getInstance()));
        Supplier<CompletionStage<List<StageActor.StageStats>>> own = () -> stageRef.thenCompose(s ->
                AskPattern.<StageActor.Command, StageActor.StageStats>ask(s, StageActor.GetStats::new,
                        Duration.ofSeconds(5), system.scheduler())).thenApply(List::of);
        CatenaNode node = new CatenaNode(system, null, null, null, null, List.of(compute), newRegistry(), own);
        node.workerReady = () -> {
            try {
                return stageRef.thenCompose(s -> AskPattern.<StageActor.Command, Boolean>ask(s, StageActor.IsReady::new,
                        Duration.ofSeconds(2), system.scheduler())).toCompletableFuture().get(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return false; // no answer in time: not ready, as a kubelet would conclude
            }
        };
        return node;
    }

    /** Cluster remoting as configured, over TLS when {@code clusterTls} (a directory of PEM files) is given. */
    private static com.typesafe.config.Config remoting(com.typesafe.config.Config cluster, Path clusterTls) {
        return clusterTls == null ? cluster : NodeConfig.withTls(cluster, clusterTls);
    }

    private static ExecutorService computeExecutor(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    private static CatenaNode withServer(ActorSystem<Void> system, TopologyView view, ServedModel model,
                                         ServerBuilder<?> grpc, GatewaySettings gateway, long uid,
                                         List<ExecutorService> executors) throws IOException {
        try {
            PrometheusMeterRegistry registry = newRegistry();
            var running = new java.util.concurrent.atomic.AtomicReference<ActorGenerationClient>();
            ServingMetrics serving = new ServingMetrics(registry, () -> running.get().runningSessions(),
                    () -> running.get().waitingSessions(), System::nanoTime);
            ActorGenerationClient client = new ActorGenerationClient(system, view, model, gateway.maxSessions(),
                    gateway.failoverWait(), uid, serving, gateway.prefixWeight());
            running.set(client);
            grpc.intercept(new MetricCollectingServerInterceptor(registry));
            WarmupSecret secret = new WarmupSecret();
            grpc.intercept(new WarmupInterceptor(secret)); // added last, so it runs first: the key check sees its mark
            GatewayServer server = new GatewayServer(grpc, model, client).start();
            GatewayWarmup warmup = new GatewayWarmup(view, gateway.warmupRounds(), gateway.maxSessions(),
                    gateway.selfCredentials(), secret);
            client.admitClientsWhen(warmup::done);
            view.listen(t -> server.serving(warmup.serving()));
            warmup.onDone(() -> server.serving(warmup.serving()));
            CatenaNode node = new CatenaNode(system, server, view, client, model, executors, registry, client::stats);
            node.warmup = warmup;
            return node;
        } catch (IOException | RuntimeException e) {
            system.terminate();
            throw e;
        }
    }

    /**
     * Starts the gateway's warm-up (gateway roles): once a replica is ready, its own endpoints get
     * {@code warmupRounds} rounds of generations, then health turns SERVING. Call it after the
     * transports are bound ({@link #serveOpenAi}); with warm-up rounds, SERVING waits for it.
     */
    public void startWarmup() {
        warmup.start(server.port());
    }

    /** What the gateway's warm-up did, transport by transport (gateway roles; empty before it ran or when off). */
    public List<catena.gateway.bridge.WarmupResult> warmupResults() {
        return warmup.results();
    }

    /** The gRPC port (gateway roles). */
    public int port() {
        return server.port();
    }

    /** The topology as this gateway sees it (gateway roles). */
    public TopologyView topology() {
        return view;
    }

    /** The generation client (gateway roles). */
    public GenerationClient client() {
        return client;
    }

    /** The served model's id, as the HTTP API names it (gateway roles). */
    public String servedModelName() {
        return model.name();
    }

    public ActorSystem<Void> system() {
        return system;
    }

    /** Blocks until the actor system terminates (worker) or the server shuts down (gateway). */
    public void awaitTermination() throws InterruptedException {
        if (server != null) {
            server.awaitTermination();
        } else {
            system.getWhenTerminated().toCompletableFuture().join();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (metrics != null) {
                metrics.close();
            }
            if (openAi != null) {
                openAi.close();
            }
        }
        if (server != null) {
            server.close();
        }
        // Runs the drain of a worker (CoordinatedShutdown), then leaves the cluster.
        CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("catena: actor system did not stop cleanly: " + e);
        }
        for (ExecutorService e : executors) {
            e.shutdownNow();
        }
    }
}
