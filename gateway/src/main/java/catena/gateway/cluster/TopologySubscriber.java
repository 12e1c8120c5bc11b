package catena.gateway.cluster;

import catena.worker.plan.Topology;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/** Feeds a gateway's {@link TopologyView} from the plan owner's topic. */
public final class TopologySubscriber {
    private TopologySubscriber() {
    }

    public static Behavior<Topology> create(TopologyView view) {
        return Behaviors.setup(ctx -> {
            var topic = ctx.spawn(Topic.create(Topology.class, PlanOwner.TOPIC), "topology-topic");
            topic.tell(Topic.subscribe(ctx.getSelf()));
            return Behaviors.receiveMessage(t -> {
                view.update(t);
                return Behaviors.same();
            });
        });
    }
}
