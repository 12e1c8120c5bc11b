package catena.gateway.cluster;

import catena.gateway.scaling.PoolScaler;
import catena.gateway.scaling.StageLoad;
import catena.worker.actor.StageActor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Runs the worker autoscaler beside the plan owner (it is spawned as the owner's child, so it lives
 * exactly where the singleton lives and moves with it). Every {@code interval} it hands the stages'
 * latest reports to a {@link PoolScaler} (whose pool calls block, so they run on {@code blocking},
 * one at a time) and asks every stage for a fresh report for the next round; the reports it uses
 * are therefore at most one interval old. A failed or late report leaves that stage's previous
 * one in place; a stage that leaves the Receptionist leaves the inputs.
 */
public final class WorkerAutoscaler {
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);

    /** Messages of the autoscaler (all internal). */
    public sealed interface Command {
    }

    private record Listed(Receptionist.Listing listing) implements Command {
    }

    private record Reported(ActorRef<StageActor.Command> stage, StageActor.StageStats stats) implements Command {
    }

    private record Applied(OptionalInt size, Throwable failure) implements Command {
    }

    private enum Tick implements Command {
        INSTANCE
    }

    /** What the autoscaler runs: the scaler, how often, where blocking calls go, and its clock. */
    public record Settings(PoolScaler scaler, Duration interval, Executor blocking, Clock clock) {
        public Settings {
            if (interval == null || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("worker autoscaler: interval=" + interval
                        + ", expected a duration > 0");
            }
        }
    }

    public static Behavior<Command> create(Settings settings) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(StageActor.SERVICE_KEY,
                    ctx.messageAdapter(Receptionist.Listing.class, Listed::new)));
            return new WorkerAutoscaler(ctx, settings).running();
        }));
    }

    private final ActorContext<Command> ctx;
    private final Settings settings;
    private final Map<ActorRef<StageActor.Command>, StageLoad> latest = new HashMap<>();
    private Set<ActorRef<StageActor.Command>> stages = Set.of();
    private boolean applying;
    private Instant last = Instant.MIN;

    private WorkerAutoscaler(ActorContext<Command> ctx, Settings settings) {
        this.ctx = ctx;
        this.settings = settings;
    }

    private Behavior<Command> running() {
        return Behaviors.receive(Command.class).onMessage(Command.class, this::onCommand).build();
    }

    private Behavior<Command> onCommand(Command c) {
        switch (c) {
            case Listed m -> onListed(m.listing());
            case Reported m -> onReported(m.stage(), m.stats());
            case Tick m -> onTick();
            case Applied m -> onApplied(m.size(), m.failure());
        }
        return Behaviors.same();
    }

    private void onListed(Receptionist.Listing listing) {
        stages = listing.getServiceInstances(StageActor.SERVICE_KEY);
        latest.keySet().retainAll(stages);
    }

    private void onReported(ActorRef<StageActor.Command> stage, StageActor.StageStats s) {
        if (s != null && stages.contains(stage)) {
            latest.put(stage, new StageLoad(s.sequences(), s.waiting(), s.kvBlocksUsed(), s.kvBlocksTotal()));
        }
    }

    private void onTick() {
        // No report yet (the singleton just moved, or every ask failed) says nothing of the load:
        // taken as an idle fleet, it could shrink a busy pool.
        if (!applying && !latest.isEmpty()) {
            applying = true;
            List<StageLoad> loads = List.copyOf(latest.values());
            // The scaler rejects time going backwards; a wall clock may step back a little.
            Instant now = settings.clock().instant();
            last = now.isAfter(last) ? now : last;
            Instant at = last;
            ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> settings.scaler().observe(at, loads),
                    settings.blocking()), Applied::new);
        }
        for (ActorRef<StageActor.Command> stage : stages) {
            ctx.ask(StageActor.StageStats.class, stage, ASK_TIMEOUT, StageActor.GetStats::new,
                    (stats, failure) -> new Reported(stage, stats));
        }
    }

    private void onApplied(OptionalInt size, Throwable failure) {
        applying = false;
        if (failure != null) {
            ctx.getLog().warn("worker autoscaler: could not read or change the worker pool: {}", failure.toString());
        } else if (size.isPresent()) {
            ctx.getLog().info("worker autoscaler: worker pool set to [{}] pods ({} stage reports)", size.getAsInt(),
                    latest.size());
        }
    }
}
