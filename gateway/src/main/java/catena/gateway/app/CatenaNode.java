package catena.gateway.app;

import catena.gateway.bridge.ActorGenerationClient;
import catena.gateway.bridge.GenerationClient;
import catena.gateway.cluster.PipelineCoordinator;
import catena.gateway.cluster.PipelineState;
import catena.gateway.model.ServedModel;
import catena.worker.actor.StageActor;
import catena.worker.config.NodeConfig;
import catena.worker.engine.StageEngineFactory;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A running Catena node: an actor system plus, for the gateway roles, the gRPC server.
 * Embedded = gateway and N stages in one JVM; gateway = coordinator + gRPC in a cluster;
 * worker = one stage in a cluster, loading whatever layers the coordinator assigns.
 */
public final class CatenaNode implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final GatewayServer server;
    private final PipelineState state;
    private final GenerationClient client;
    private MetricsServer metrics;

    private CatenaNode(ActorSystem<Void> system, GatewayServer server, PipelineState state, GenerationClient client) {
        this.system = system;
        this.server = server;
        this.state = state;
        this.client = client;
    }

    /** Serves Prometheus {@code /metrics} on {@code port} (gateway roles; 0 = any free port); returns the port. */
    public synchronized int serveMetrics(int port) throws IOException {
        if (client == null) {
            throw new IllegalStateException("metrics are served by the gateway roles");
        }
        if (metrics == null) {
            metrics = MetricsServer.start(port, client);
        }
        return metrics.port();
    }

    /** Gateway + {@code settings.stageCount()} stages in this JVM, serving gRPC from {@code grpc}. */
    public static CatenaNode embedded(PipelineCoordinator.Settings settings, ServedModel model, StageEngineFactory engines,
                                      ServerBuilder<?> grpc, int maxSessions) throws IOException {
        PipelineState state = new PipelineState();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (int i = 0; i < settings.stageCount(); i++) {
                ActorRef<StageActor.Command> stage = ctx.spawn(StageActor.create(engines), "stage-" + i);
                ctx.getSystem().receptionist().tell(Receptionist.register(StageActor.SERVICE_KEY, stage));
            }
            ctx.spawn(PipelineCoordinator.create(settings, state), "coordinator");
            return Behaviors.empty();
        }), NodeConfig.SYSTEM_NAME, NodeConfig.embedded());
        return withServer(system, state, model, grpc, maxSessions);
    }

    /** The gateway of a cluster: waits for workers, plans the stages, serves gRPC. */
    public static CatenaNode gateway(PipelineCoordinator.Settings settings, ServedModel model, ServerBuilder<?> grpc,
                                     int maxSessions, String host, int pekkoPort, List<String> seeds)
            throws IOException {
        PipelineState state = new PipelineState();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(PipelineCoordinator.create(settings, state), "coordinator");
            return Behaviors.empty();
        }), NodeConfig.SYSTEM_NAME, NodeConfig.cluster("gateway", host, pekkoPort, seeds));
        return withServer(system, state, model, grpc, maxSessions);
    }

    /** A worker of a cluster: one unloaded stage registered with the Receptionist. */
    public static CatenaNode worker(StageEngineFactory engines, String host, int pekkoPort, List<String> seeds) {
        Behavior<Void> root = Behaviors.setup(ctx -> {
            ActorRef<StageActor.Command> stage = ctx.spawn(StageActor.create(engines), "stage");
            ctx.getSystem().receptionist().tell(Receptionist.register(StageActor.SERVICE_KEY, stage));
            return Behaviors.empty();
        });
        ActorSystem<Void> system = ActorSystem.create(root, NodeConfig.SYSTEM_NAME,
                NodeConfig.cluster("worker", host, pekkoPort, seeds));
        return new CatenaNode(system, null, null, null);
    }

    private static CatenaNode withServer(ActorSystem<Void> system, PipelineState state, ServedModel model,
                                         ServerBuilder<?> grpc, int maxSessions) throws IOException {
        try {
            ActorGenerationClient client = new ActorGenerationClient(system, state, model, maxSessions);
            GatewayServer server = new GatewayServer(grpc, model, client, state).start();
            return new CatenaNode(system, server, state, client);
        } catch (IOException | RuntimeException e) {
            system.terminate();
            throw e;
        }
    }

    /** The gRPC port (gateway roles). */
    public int port() {
        return server.port();
    }

    /** The pipeline state (gateway roles). */
    public PipelineState pipelineState() {
        return state;
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
        }
        if (server != null) {
            server.close();
        }
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(Duration.ofSeconds(30).toSeconds(),
                    java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("catena: actor system did not stop cleanly: " + e);
        }
    }
}
