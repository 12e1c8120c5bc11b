package catena.gateway.cluster;

import catena.worker.actor.StageActor;
import catena.worker.plan.StagePlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Decides the topology: watches the stages registered with the Receptionist (embedded stages or
 * workers that joined the cluster), and once {@code stageCount} are there cuts the layers into
 * that many stages balanced by bytes, tells each stage which layers to load and where to send its
 * output, and publishes the ring to {@link PipelineState} when every stage has loaded. When a
 * chosen stage disappears it withdraws the pipeline and plans again with the stages left.
 */
public final class PipelineCoordinator {

    /** Messages the coordinator handles (all internal: it is driven by the Receptionist and the stages). */
    public sealed interface Command {
    }

    private record StagesChanged(Receptionist.Listing listing) implements Command {
    }

    private record StageReplied(StageActor.LoadReply reply) implements Command {
    }

    /**
     * What to serve: the GGUF every stage opens, its per-layer byte sizes (the balancing weights),
     * where a stage may start (length layer count + 1) and the number of stages wanted.
     */
    public record Settings(Path model, boolean keepF32, int stageCount, long[] layerBytes, boolean[] allowedStarts) {
        public Settings {
            if (stageCount < 1 || stageCount > layerBytes.length) {
                throw new IllegalArgumentException("stages=" + stageCount + ", expected 1.." + layerBytes.length
                        + " (the model's layer count)");
            }
            // Fails early, with the reason, when the model cannot be cut into that many stages.
            StagePlan.split(layerBytes, stageCount, allowedStarts);
        }

        /** Any layer may start a stage. */
        public Settings(Path model, boolean keepF32, int stageCount, long[] layerBytes) {
            this(model, keepF32, stageCount, layerBytes, allTrue(layerBytes.length + 1));
        }

        /** Reads the layer sizes and legal cut points of the GGUF at {@code model} (not its weights). */
        public static Settings forModel(Path model, boolean keepF32, int stageCount) throws java.io.IOException {
            return new Settings(model, keepF32, stageCount, catena.shard.model.Model.layerBytes(model),
                    catena.shard.model.Model.stageBoundariesAllowed(model));
        }

        private static boolean[] allTrue(int n) {
            boolean[] b = new boolean[n];
            java.util.Arrays.fill(b, true);
            return b;
        }
    }

    public static Behavior<Command> create(Settings settings, PipelineState state) {
        return Behaviors.setup(ctx -> new PipelineCoordinator(ctx, settings, state).behavior());
    }

    private final ActorContext<Command> ctx;
    private final Settings settings;
    private final PipelineState state;
    private final ActorRef<StageActor.LoadReply> replies;
    private List<ActorRef<StageActor.Command>> chosen = List.of();
    private int[] bounds;
    private boolean[] loaded;

    private PipelineCoordinator(ActorContext<Command> ctx, Settings settings, PipelineState state) {
        this.ctx = ctx;
        this.settings = settings;
        this.state = state;
        this.replies = ctx.messageAdapter(StageActor.LoadReply.class, StageReplied::new);
        ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, StagesChanged::new);
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(StageActor.SERVICE_KEY, listings));
    }

    private Behavior<Command> behavior() {
        return Behaviors.receive(Command.class).onMessage(Command.class, this::onCommand).build();
    }

    private Behavior<Command> onCommand(Command c) {
        switch (c) {
            case StagesChanged m -> onStagesChanged(m.listing());
            case StageReplied m -> onReply(m.reply());
        }
        return Behaviors.same();
    }

    private void onStagesChanged(Receptionist.Listing listing) {
        List<ActorRef<StageActor.Command>> available = new ArrayList<>(listing.getServiceInstances(StageActor.SERVICE_KEY));
        // A stable order (by address and path) so that the same workers get the same layers.
        available.sort(Comparator.comparing(r -> r.path().toString()));
        if (!chosen.isEmpty() && available.containsAll(chosen)) {
            return;
        }
        if (!chosen.isEmpty()) {
            ctx.getLog().warn("a stage of the pipeline left; planning again with {} stage(s) available",
                    available.size());
            state.publish(null);
            chosen = List.of();
        }
        if (available.size() < settings.stageCount()) {
            ctx.getLog().info("waiting for stages: {} of {} registered", available.size(), settings.stageCount());
            return;
        }
        plan(available.subList(0, settings.stageCount()));
    }

    private void plan(List<ActorRef<StageActor.Command>> stages) {
        int n = stages.size();
        chosen = List.copyOf(stages);
        bounds = StagePlan.split(settings.layerBytes(), n, settings.allowedStarts());
        loaded = new boolean[n];
        for (int i = 0; i < n; i++) {
            ctx.getLog().info("stage [{}] gets layers [{}, {}) on {}", i, bounds[i], bounds[i + 1], stages.get(i).path());
            stages.get(i).tell(new StageActor.Load(settings.model().toString(), settings.keepF32(), i, n, bounds[i],
                    bounds[i + 1], stages.get((i + 1) % n), replies));
        }
    }

    private void onReply(StageActor.LoadReply reply) {
        switch (reply) {
            case StageActor.StageLoaded m -> {
                int i = m.stageIndex();
                if (i >= chosen.size() || !chosen.get(i).equals(m.stage()) || bounds[i] != m.fromLayer()
                        || bounds[i + 1] != m.toLayerExclusive()) {
                    return; // a reply to an earlier plan
                }
                loaded[i] = true;
                for (boolean b : loaded) {
                    if (!b) {
                        return;
                    }
                }
                List<Pipeline.Stage> stages = new ArrayList<>();
                for (int k = 0; k < chosen.size(); k++) {
                    stages.add(new Pipeline.Stage(k, bounds[k], bounds[k + 1], chosen.get(k)));
                }
                ctx.getLog().info("pipeline ready: {} stage(s)", stages.size());
                state.publish(new Pipeline(stages));
            }
            case StageActor.StageFailed m -> {
                ctx.getLog().error("stage [{}] failed to load: {}", m.stageIndex(), m.reason());
                state.publish(null);
            }
        }
    }
}
