package catena.gateway.bridge;

import catena.gateway.cluster.TopologyView;
import catena.gateway.metrics.ServingMetrics;
import catena.gateway.model.ServedModel;
import catena.gateway.route.PrefixMirror;
import catena.gateway.route.ReplicaLoad;
import catena.gateway.route.ReplicaOccupancy;
import catena.gateway.route.Router;
import catena.gateway.route.SequenceIds;
import catena.gateway.session.GenerationHandle;
import catena.gateway.session.GenerationRequest;
import catena.gateway.session.GenerationSession;
import catena.gateway.session.GenerationSink;
import catena.gateway.session.TokenRelay;
import catena.worker.actor.StageActor;
import catena.worker.plan.Topology;
import catena.worker.prefix.BlockHash;
import catena.worker.prefix.PrefixChain;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Runs each generation as a {@link GenerationSession} actor placed by the {@link Router} on the
 * ready replica with the most room (loads polled from each replica's stage 0, plus what this
 * gateway sent since), weighed against how much of the prompt each replica is believed to cache
 * (a {@link PrefixMirror} of the prompts sent to it). Tells every running session when the topology changes, so sessions on a
 * replica that lost a stage fail over at once. At most {@code maxSessions} generations run in
 * this gateway; KV memory is admitted by the stages themselves.
 */
public final class ActorGenerationClient implements GenerationClient, GenerationSession.Placement {
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(5);
    /** How often each ready replica's stage 0 is asked for its load. */
    static final Duration LOAD_POLL = Duration.ofMillis(250);
    /** KV block size assumed before the first report (the stages' default --kv-block). */
    static final int DEFAULT_BLOCK_TOKENS = 16;

    private final ActorSystem<?> system;
    private final TopologyView view;
    private final ServedModel model;
    private final int maxSessions;
    private final Duration failoverWait;
    private final SequenceIds ids;
    private final Router router;
    /** Where stages send every event of this gateway's sequences (tokens: one message per pass). */
    private final TokenRelay relay;
    private final PrefixMirror mirror = new PrefixMirror();
    private final AtomicInteger active = new AtomicInteger();
    /** Whether clients' generations are taken now (the gateway's warm-up, if any, has run). */
    private volatile java.util.function.BooleanSupplier clientsAdmitted = () -> true;
    private final AtomicLong sessionNames = new AtomicLong();
    private final Map<Long, ActorRef<GenerationSession.Command>> sessions = new ConcurrentHashMap<>();
    private final Map<Integer, StageActor.StageStats> reported = new ConcurrentHashMap<>();
    private final ReplicaOccupancy occupancy = new ReplicaOccupancy();
    private final ServingMetrics metrics;
    /** Placement for warm-up sessions: the same routing and occupancy, without the serving metrics. */
    private final GenerationSession.Placement unmetered = new GenerationSession.Placement() {
        @Override
        public Topology.Replica place(int[] prompt) {
            return ActorGenerationClient.this.place(prompt, false);
        }

        @Override
        public void ended(int replica) {
            ActorGenerationClient.this.ended(replica);
        }

        @Override
        public void queued(long nanos) {
        }

        @Override
        public Topology current() {
            return ActorGenerationClient.this.current();
        }

        @Override
        public long nextSequenceId() {
            return ActorGenerationClient.this.nextSequenceId();
        }
    };

    public ActorGenerationClient(ActorSystem<?> system, TopologyView view, ServedModel model, int maxSessions,
                                 Duration failoverWait, long incarnationUid, ServingMetrics metrics, double prefixWeight) {
        this.metrics = metrics;
        this.router = new Router(prefixWeight);
        this.system = system;
        this.view = view;
        this.model = model;
        this.maxSessions = maxSessions;
        this.failoverWait = failoverWait;
        this.ids = new SequenceIds(incarnationUid);
        this.relay = TokenRelay.spawn(system, "token-relay");
        view.listen(t -> {
            for (ActorRef<GenerationSession.Command> s : sessions.values()) {
                s.tell(new GenerationSession.TopologyChanged(t));
            }
        });
        system.scheduler().scheduleWithFixedDelay(LOAD_POLL, LOAD_POLL, this::pollLoads, system.executionContext());
    }

    /**
     * Takes clients' generations only while {@code admitted} says so (false while the gateway warms
     * up before reporting SERVING); its own warm-up generations are always taken.
     */
    public void admitClientsWhen(java.util.function.BooleanSupplier admitted) {
        this.clientsAdmitted = admitted;
    }

    @Override
    public Topology topology() {
        return view.current();
    }

    @Override
    public GenerationHandle generate(GenerationRequest request, GenerationSink out, boolean warmup) {
        if (!view.serving()) {
            throw new ServiceUnavailableException("no pipeline replica is ready; retry later ("
                    + (view.current().shortfall().isEmpty() ? "stages loading" : view.current().shortfall()) + ")");
        }
        if (!warmup && !clientsAdmitted.getAsBoolean()) {
            // A cold gateway's first requests would be slow and slow its warm-up down; refused at
            // once instead, they are retried (UNAVAILABLE) and find the path compiled.
            throw new ServiceUnavailableException("the gateway is warming up (its own requests before it reports"
                    + " SERVING); retry in a second");
        }
        if (active.incrementAndGet() > maxSessions) {
            active.decrementAndGet();
            throw new OverloadedException("too many concurrent generations (limit " + maxSessions + "); retry later",
                    Duration.ofSeconds(1));
        }
        long name = sessionNames.incrementAndGet();
        var done = new java.util.concurrent.atomic.AtomicBoolean();
        ActorRef<GenerationSession.Command> session;
        try {
            session = system.systemActorOf(GenerationSession.create(request, warmup ? unmetered : this, relay,
                    model.tokenizer(), model.endIds(), warmup ? out : metrics.observe(out), failoverWait, () -> {
                        done.set(true);
                        sessions.remove(name);
                        active.decrementAndGet();
                    }), "session-" + name, Props.empty());
        } catch (RuntimeException e) {
            active.decrementAndGet();
            throw e;
        }
        sessions.put(name, session);
        if (done.get()) {
            sessions.remove(name);
        }
        return new GenerationHandle() {
            @Override
            public void ready() {
                session.tell(GenerationSession.StreamReady.INSTANCE);
            }

            @Override
            public void cancel() {
                session.tell(GenerationSession.Cancel.INSTANCE);
            }
        };
    }

    @Override
    public Topology.Replica place(int[] prompt) {
        return place(prompt, true);
    }

    private synchronized Topology.Replica place(int[] prompt, boolean metered) {
        List<Topology.Replica> ready = view.current().ready();
        if (ready.isEmpty()) {
            return null;
        }
        int blockTokens = blockTokens(ready);
        // Like a stage, only blocks before the prompt's last token count (that one is always computed).
        BlockHash[] chain = router.prefixAware() && prompt.length > 1
                ? PrefixChain.of(prompt, prompt.length - 1, blockTokens) : new BlockHash[0];
        List<ReplicaLoad> loads = new ArrayList<>(ready.size());
        int[] cached = new int[ready.size()];
        for (int i = 0; i < ready.size(); i++) {
            Topology.Replica r = ready.get(i);
            StageActor.StageStats s = reported.get(r.index());
            boolean fresh = s != null && s.epoch() == r.epoch();
            cached[i] = mirror.cachedBlocks(r.index(), r.epoch(), chain) * blockTokens;
            loads.add(new ReplicaLoad(r.index(), r.epoch(), occupancy.own(r.index()), fresh ? occupancy.others(r.index()) : 0,
                    fresh ? (long) (s.kvBlocksTotal() - s.kvBlocksUsed()) * s.kvBlockTokens() : Long.MAX_VALUE,
                    fresh ? (long) s.kvBlocksTotal() * s.kvBlockTokens() : 0, cached[i],
                    chain.length > 0 ? mirror.fill(r.index(), r.epoch()) : 0));
        }
        int pick = router.choose(loads, prompt.length);
        Topology.Replica chosen = ready.get(pick);
        occupancy.started(chosen.index()); // within the lock, so a burst of sessions sees each other
        if (chain.length > 0) {
            mirror.sent(chosen.index(), chosen.epoch(), chain);
            if (metered) {
                metrics.routed(chain.length * blockTokens, cached[pick]);
            }
        }
        return chosen;
    }

    /** Positions per KV block of the replicas, as reported (all stages of a fleet share the setting). */
    private int blockTokens(List<Topology.Replica> ready) {
        for (Topology.Replica r : ready) {
            StageActor.StageStats s = reported.get(r.index());
            if (s != null && s.kvBlockTokens() > 0) {
                return s.kvBlockTokens();
            }
        }
        return DEFAULT_BLOCK_TOKENS;
    }

    @Override
    public void queued(long nanos) {
        metrics.queued(nanos);
    }

    @Override
    public void ended(int replica) {
        occupancy.ended(replica);
    }

    @Override
    public Topology current() {
        return view.current();
    }

    @Override
    public long nextSequenceId() {
        return ids.next();
    }

    private void pollLoads() {
        for (Topology.Replica r : view.current().ready()) {
            AskPattern.<StageActor.Command, StageActor.StageStats>ask(r.first(), StageActor.GetStats::new,
                    STATS_TIMEOUT, system.scheduler()).whenComplete((s, failure) -> {
                        if (s != null) {
                            reported.put(r.index(), s);
                            mirror.capacity(r.index(), s.epoch(), s.kvBlocksTotal());
                            occupancy.reported(r.index(), s.sequences() + s.waiting());
                        }
                    });
        }
    }

    @Override
    public CompletionStage<List<StageActor.StageStats>> stats() {
        List<Topology.Replica> replicas = view.current().replicas();
        if (replicas.isEmpty()) {
            return CompletableFuture.failedFuture(new ServiceUnavailableException("no pipeline replica is planned yet"));
        }
        List<CompletableFuture<StageActor.StageStats>> asks = new ArrayList<>();
        for (Topology.Replica r : replicas) {
            for (Topology.Stage s : r.stages()) {
                // A stage that does not answer (lost, not yet planned out) is left out, not an error.
                asks.add(AskPattern.<StageActor.Command, StageActor.StageStats>ask(s.ref(), StageActor.GetStats::new,
                        STATS_TIMEOUT, system.scheduler()).toCompletableFuture().exceptionally(e -> null));
            }
        }
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                .thenApply(v -> asks.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
    }

    @Override
    public int activeSessions() {
        return active.get();
    }

    /** Sessions of this gateway that run on a replica now. */
    public int runningSessions() {
        return occupancy.ownTotal();
    }

    /** Sessions of this gateway waiting for a replica (none ready, or placing after a failover). */
    public int waitingSessions() {
        return Math.max(0, active.get() - occupancy.ownTotal());
    }
}
