package catena.gateway.cluster;

import catena.worker.plan.Topology;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A gateway's view of the fleet: the newest {@link Topology} the plan owner published (older
 * versions arriving late are ignored). Read by gRPC threads and sessions; listeners (health,
 * sessions' failover) hear every change. Thread-safe.
 */
public final class TopologyView {
    private volatile Topology current = Topology.EMPTY;
    private final CopyOnWriteArrayList<Consumer<Topology>> listeners = new CopyOnWriteArrayList<>();

    public Topology current() {
        return current;
    }

    /** Whether at least one replica has all its stages. */
    public boolean serving() {
        return !current.ready().isEmpty();
    }

    /** Takes {@code t} if it supersedes the current one (see {@link Topology#newerThan}); late ones are ignored. */
    public synchronized void update(Topology t) {
        if (!t.newerThan(current)) {
            return;
        }
        current = t;
        for (Consumer<Topology> l : listeners) {
            l.accept(t);
        }
    }

    /** Calls {@code listener} now and on every change. */
    public void listen(Consumer<Topology> listener) {
        listeners.add(listener);
        listener.accept(current);
    }
}
