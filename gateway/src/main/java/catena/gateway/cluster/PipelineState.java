package catena.gateway.cluster;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The current pipeline, published by the coordinator and read by gRPC threads: null while some
 * stage is not loaded. Listeners (health) hear every change. Thread-safe.
 */
public final class PipelineState {
    private volatile Pipeline current;
    private final CopyOnWriteArrayList<Consumer<Pipeline>> listeners = new CopyOnWriteArrayList<>();

    /** The loaded pipeline, or null while loading or after a stage was lost. */
    public Pipeline current() {
        return current;
    }

    public void publish(Pipeline pipeline) {
        current = pipeline;
        for (Consumer<Pipeline> l : listeners) {
            l.accept(pipeline);
        }
    }

    /** Calls {@code listener} now and on every change. */
    public void listen(Consumer<Pipeline> listener) {
        listeners.add(listener);
        listener.accept(current);
    }
}
