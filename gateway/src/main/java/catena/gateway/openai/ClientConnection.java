package catena.gateway.openai;

import catena.gateway.session.GenerationHandle;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generations running for one HTTP connection. When the client closes its side of the
 * connection (end of input: it went away, or half-closed, which like most HTTP servers this one
 * takes as gone), each is cancelled, which frees its sequence as a gRPC cancel does, and its
 * pending response is answered rather than left waiting. Thread-safe.
 */
final class ClientConnection {
    private final Map<GenerationHandle, Runnable> running = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * Tracks a generation until {@link #finished}; {@code cancel} stops it and answers its
     * response. One started on a closed connection is cancelled at once.
     */
    void started(GenerationHandle h, Runnable cancel) {
        running.put(h, cancel);
        if (closed) {
            cancelAll();
        }
    }

    void finished(GenerationHandle h) {
        running.remove(h);
    }

    /** The connection's input ended: cancel what still runs for it. */
    void closed() {
        closed = true;
        cancelAll();
    }

    private void cancelAll() {
        for (GenerationHandle h : running.keySet()) {
            Runnable cancel = running.remove(h);
            if (cancel != null) {
                cancel.run();
            }
        }
    }
}
