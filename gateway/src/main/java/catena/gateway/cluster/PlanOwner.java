package catena.gateway.cluster;

import catena.gateway.plan.FleetPlan;
import catena.gateway.plan.FleetPlanner;
import catena.gateway.plan.Holding;
import catena.gateway.plan.ReplicaPlan;
import catena.gateway.plan.Slot;
import catena.gateway.plan.WorkerOffer;
import catena.worker.actor.StageActor;
import catena.worker.plan.Topology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The one owner of the fleet plan (a Cluster Singleton on the gateway role; a plain actor in
 * embedded mode). It learns the workers from the Receptionist and their offers by asking each to
 * describe itself, learns of losses from DeathWatch and cluster reachability (a worker that turns
 * unreachable is planned out at once, not after a silence), and of departures from a draining
 * worker's notice. The decisions are {@link FleetPlanner}'s; this actor sends each changed slot
 * its {@link StageActor.Assign} (idempotent for layers already held), tells workers left out of a
 * dissolved replica to stand by, and publishes the {@link Topology} on the topic every gateway
 * reads, at every change and every second.
 */
public final class PlanOwner {
    /** The topic gateways subscribe to. */
    public static final String TOPIC = "catena-topology";
    static final Duration DESCRIBE_TIMEOUT = Duration.ofSeconds(5);
    /** How long a new owner waits for the workers' descriptions before its first plan (adoption needs them). */
    static final Duration SETTLE = Duration.ofSeconds(3);
    static final Duration REPUBLISH = Duration.ofSeconds(1);

    /** Messages the owner handles. */
    public sealed interface Command {
    }

    /** Reply with the current topology. */
    public record GetTopology(ActorRef<Topology> replyTo) implements Command {
    }

    private record Listed(Receptionist.Listing listing) implements Command {
    }

    private record Described(StageActor.WorkerDescription description) implements Command {
    }

    private record DescribeFailed(ActorRef<StageActor.Command> stage, String reason) implements Command {
    }

    private record WorkerGone(ActorRef<StageActor.Command> stage) implements Command {
    }

    private record Replied(StageActor.AssignReply reply) implements Command {
    }

    private record Unreachable(Address address) implements Command {
    }

    private enum Tick implements Command {
        INSTANCE
    }

    private enum Settled implements Command {
        INSTANCE
    }

    /**
     * What to serve: the GGUF every stage opens, the bytes each layer holds in memory, where a
     * stage may start (layer count + 1 entries), the stages per replica, the replicas wanted
     * ({@link FleetPlanner#AUTO} = as many as the workers allow), and the KV memory a worker needs
     * beyond its slot's weights.
     */
    public record Settings(Path model, boolean keepF32, long[] layerBytes, boolean[] allowedStarts, int stages,
                           int replicas, long kvReserveBytes) {
        public Settings {
            if (stages < 1 || stages > layerBytes.length) {
                throw new IllegalArgumentException("stages=" + stages + ", expected 1.." + layerBytes.length
                        + " (the model's layer count)");
            }
            if (replicas < 1 && replicas != FleetPlanner.AUTO) {
                throw new IllegalArgumentException("replicas=" + replicas + ", expected >= 1 or auto");
            }
            // Fails early, with the reason, when the model cannot be cut into that many stages.
            catena.worker.plan.StagePlan.split(layerBytes, stages, allowedStarts);
        }

        /** One replica of {@code stages}, any layer may start a stage, no KV reserve (tests and tools). */
        public static Settings of(Path model, boolean keepF32, int stages, long[] layerBytes) {
            boolean[] any = new boolean[layerBytes.length + 1];
            java.util.Arrays.fill(any, true);
            return new Settings(model, keepF32, layerBytes, any, stages, 1, 0);
        }

        /** The same with {@code replicas} replicas. */
        public Settings withReplicas(int replicas) {
            return new Settings(model, keepF32, layerBytes, allowedStarts, stages, replicas, kvReserveBytes);
        }

        /** Reads the layer sizes and legal cut points of the GGUF at {@code model} (not its weights). */
        public static Settings forModel(Path model, boolean keepF32, int stages, int replicas, long kvReserveBytes)
                throws java.io.IOException {
            return new Settings(model, keepF32, catena.shard.model.Model.layerBytes(model), stages, replicas,
                    kvReserveBytes, catena.shard.model.Model.stageBoundariesAllowed(model));
        }

        private Settings(Path model, boolean keepF32, long[] layerBytes, int stages, int replicas, long kvReserve,
                         boolean[] allowedStarts) {
            this(model, keepF32, layerBytes, allowedStarts, stages, replicas, kvReserve);
        }
    }

    public static Behavior<Command> create(Settings settings) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new PlanOwner(ctx, timers, settings).start()));
    }

    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final Settings settings;
    private final FleetPlanner planner;
    private final ActorRef<Topic.Command<Topology>> topic;
    private final ActorRef<StageActor.AssignReply> replies;
    private final ActorRef<StageActor.WorkerDescription> descriptions;
    /** Workers described, by id, in the order they were first seen. */
    private final Map<String, Worker> workers = new LinkedHashMap<>();
    /** Stages listed but not yet described. */
    private final Set<ActorRef<StageActor.Command>> describing = new HashSet<>();
    /** Workers that drained or failed to load: left out of plans while they stay in the cluster. */
    private final Set<ActorRef<StageActor.Command>> excluded = new HashSet<>();
    /** Stages that confirmed the current epoch of each replica. */
    private final Map<Integer, Set<Integer>> confirmed = new HashMap<>();
    private FleetPlan plan;
    private boolean settled;
    private long topologyVersion;
    private Topology published = Topology.EMPTY;
    /** This owner incarnation's start (wall clock): a later owner's topologies supersede this one's. */
    private final long started = System.currentTimeMillis();

    private record Worker(ActorRef<StageActor.Command> ref, StageActor.WorkerDescription description) {
    }

    private PlanOwner(ActorContext<Command> ctx, TimerScheduler<Command> timers, Settings settings) {
        this.ctx = ctx;
        this.timers = timers;
        this.settings = settings;
        this.planner = new FleetPlanner(settings.model().toString(), settings.layerBytes(), settings.allowedStarts(),
                settings.stages(), settings.replicas(), settings.kvReserveBytes());
        this.topic = ctx.spawn(Topic.create(Topology.class, TOPIC), "topology-topic");
        this.replies = ctx.messageAdapter(StageActor.AssignReply.class, Replied::new);
        this.descriptions = ctx.messageAdapter(StageActor.WorkerDescription.class, Described::new);
    }

    private Behavior<Command> start() {
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(StageActor.SERVICE_KEY,
                ctx.messageAdapter(Receptionist.Listing.class, Listed::new)));
        if ("cluster".equals(ctx.getSystem().settings().config().getString("pekko.actor.provider"))) {
            Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.UnreachableMember.class, u -> new Unreachable(u.member().address())),
                    ClusterEvent.UnreachableMember.class));
        }
        timers.startSingleTimer(Settled.INSTANCE, SETTLE);
        timers.startTimerWithFixedDelay(Tick.INSTANCE, REPUBLISH);
        ctx.getLog().info("plan owner started: {} stage(s) x {} replica(s) of {}", settings.stages(),
                settings.replicas() == FleetPlanner.AUTO ? "auto" : settings.replicas(), settings.model());
        return Behaviors.receive(Command.class).onMessage(Command.class, this::onCommand).build();
    }

    private Behavior<Command> onCommand(Command c) {
        switch (c) {
            case Listed m -> onListed(m.listing());
            case Described m -> onDescribed(m.description());
            case DescribeFailed m -> {
                describing.remove(m.stage());
                ctx.getLog().warn("worker {} did not describe itself: {}", m.stage().path(), m.reason());
                maybeSettle();
            }
            case WorkerGone m -> lose(m.stage(), "stopped or removed from the cluster");
            case Unreachable m -> onUnreachable(m.address());
            case Replied m -> onReply(m.reply());
            case Tick m -> topic.tell(Topic.publish(published));
            case Settled m -> {
                if (!settled) {
                    settled = true;
                    replan("first plan");
                }
            }
            case GetTopology m -> m.replyTo().tell(published);
        }
        return Behaviors.same();
    }

    private void onListed(Receptionist.Listing listing) {
        Set<ActorRef<StageActor.Command>> now = listing.getServiceInstances(StageActor.SERVICE_KEY);
        for (ActorRef<StageActor.Command> ref : now) {
            if (!workers.containsKey(id(ref)) && describing.add(ref)) {
                ctx.watchWith(ref, new WorkerGone(ref));
                ctx.ask(StageActor.WorkerDescription.class, ref, DESCRIBE_TIMEOUT, StageActor.Describe::new,
                        (d, failure) -> d != null ? new Described(d)
                                : new DescribeFailed(ref, String.valueOf(failure)));
            }
        }
        for (Worker w : List.copyOf(workers.values())) {
            if (!now.contains(w.ref())) {
                lose(w.ref(), "deregistered");
            }
        }
    }

    private void onDescribed(StageActor.WorkerDescription d) {
        describing.remove(d.stage());
        if (d.draining()) {
            excluded.add(d.stage());
        }
        workers.put(id(d.stage()), new Worker(d.stage(), d));
        ctx.getLog().info("worker {}: {} MB, {} core(s), holds {}", d.stage().path(), d.memoryBytes() >> 20, d.cores(),
                d.epoch() < 0 ? "nothing assigned" : "replica " + d.replica() + " stage " + d.stageIndex() + " epoch "
                        + d.epoch());
        maybeSettle();
        if (settled) {
            replan("worker joined");
        }
    }

    private void maybeSettle() {
        if (!settled && describing.isEmpty() && !workers.isEmpty()) {
            settled = true;
            replan("first plan");
        }
    }

    private void onUnreachable(Address address) {
        for (Worker w : List.copyOf(workers.values())) {
            if (address.equals(w.ref().path().address())) {
                lose(w.ref(), "unreachable");
            }
        }
    }

    private void lose(ActorRef<StageActor.Command> ref, String why) {
        describing.remove(ref);
        excluded.remove(ref);
        if (workers.remove(id(ref)) != null) {
            ctx.getLog().warn("worker {} lost ({}); planning again", ref.path(), why);
            replan("worker lost");
        }
    }

    private void onReply(StageActor.AssignReply reply) {
        switch (reply) {
            case StageActor.Assigned m -> {
                ReplicaPlan r = plan == null ? null : plan.replica(m.replica()).orElse(null);
                if (r == null || r.epoch() != m.epoch()) {
                    return; // a reply to an earlier plan
                }
                Set<Integer> ok = confirmed.computeIfAbsent(m.replica(), k -> new HashSet<>());
                if (ok.add(m.stageIndex()) && ok.size() == r.slots().size()) {
                    ctx.getLog().info("replica [{}] ready under epoch [{}]", m.replica(), m.epoch());
                    publish();
                }
            }
            case StageActor.AssignFailed m -> {
                ctx.getLog().error("replica [{}] stage [{}] failed to load: {}", m.replica(), m.stageIndex(), m.reason());
                excluded.add(m.stage());
                replan("a stage failed to load");
            }
            case StageActor.Leaving m -> {
                ctx.getLog().info("worker {} is draining; planning without it", m.stage().path());
                excluded.add(m.stage());
                replan("worker draining");
            }
        }
    }

    private void replan(String why) {
        if (!settled) {
            return;
        }
        List<WorkerOffer> offers = new ArrayList<>();
        for (Worker w : workers.values()) {
            if (excluded.contains(w.ref())) {
                continue;
            }
            StageActor.WorkerDescription d = w.description();
            Holding holding = d.epoch() >= 0 && !d.model().isEmpty() ? new Holding(d.model(), d.fromLayer(),
                    d.toLayerExclusive(), d.replica(), d.stageIndex(), d.epoch()) : null;
            offers.add(new WorkerOffer(id(w.ref()), d.memoryBytes(), d.cores(), holding));
        }
        FleetPlan next = planner.plan(offers, plan);
        FleetPlan previous = plan;
        if (previous != null && next.version() == previous.version()) {
            return;
        }
        plan = next;
        ctx.getLog().info("plan v{} ({}): {}", next.version(), why, next.describe());
        Set<String> serving = new HashSet<>();
        for (ReplicaPlan r : next.replicas()) {
            ReplicaPlan old = previous == null ? null : previous.replica(r.index()).orElse(null);
            for (Slot s : r.slots()) {
                serving.add(s.workerId());
            }
            if (old != null && old.epoch() == r.epoch()) {
                continue;
            }
            confirmed.remove(r.index());
            int n = r.slots().size();
            for (int i = 0; i < n; i++) {
                Slot s = r.slots().get(i);
                Worker w = workers.get(s.workerId());
                Worker next1 = workers.get(r.slots().get((i + 1) % n).workerId());
                w.ref().tell(new StageActor.Assign(settings.model().toString(), settings.keepF32(), r.index(),
                        r.epoch(), s.stage(), n, s.fromLayer(), s.toLayerExclusive(), next1.ref(), replies,
                        next1.description().link()));
            }
        }
        if (previous != null) {
            for (ReplicaPlan old : previous.replicas()) {
                for (Slot s : old.slots()) {
                    Worker w = workers.get(s.workerId());
                    if (w != null && !serving.contains(s.workerId())) {
                        w.ref().tell(new StageActor.Unassign(old.epoch()));
                    }
                }
            }
        }
        publish();
    }

    private void publish() {
        List<Topology.Replica> replicas = new ArrayList<>();
        if (plan != null) {
            for (ReplicaPlan r : plan.replicas()) {
                List<Topology.Stage> stages = new ArrayList<>();
                boolean complete = true;
                for (Slot s : r.slots()) {
                    Worker w = workers.get(s.workerId());
                    if (w == null) {
                        complete = false;
                        continue;
                    }
                    stages.add(new Topology.Stage(s.stage(), s.fromLayer(), s.toLayerExclusive(), w.ref()));
                }
                Set<Integer> ok = confirmed.getOrDefault(r.index(), Set.of());
                replicas.add(new Topology.Replica(r.index(), r.epoch(), complete && ok.size() == r.slots().size(),
                        stages));
            }
        }
        String shortfall = plan == null ? "no plan yet: waiting for workers" : plan.shortfall();
        published = new Topology(started, ++topologyVersion, replicas, plan == null ? 0 : plan.spares().size(),
                shortfall == null ? "" : shortfall);
        topic.tell(Topic.publish(published));
    }

    private static String id(ActorRef<?> ref) {
        return ref.path().toSerializationFormat();
    }
}
