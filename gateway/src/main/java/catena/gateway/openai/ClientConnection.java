package catena.gateway.openai;

import catena.gateway.session.GenerationHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generations one HTTP connection waits for whole (non-streamed). When the connection
 * closes before their responses are sent (the client went away), they are cancelled, which frees
 * their sequences, as a gRPC cancel does. Thread-safe.
 */
final class ClientConnection {
    private final Set<GenerationHandle> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Tracks a generation until {@link #finished}; one started on a closed connection is cancelled at once. */
    void started(GenerationHandle h) {
        running.add(h);
        if (closed && running.remove(h)) {
            h.cancel();
        }
    }

    void finished(GenerationHandle h) {
        running.remove(h);
    }

    /** The connection ended: cancel what still runs for it. */
    void closed() {
        closed = true;
        for (GenerationHandle h : running) {
            if (running.remove(h)) {
                h.cancel();
            }
        }
    }
}
