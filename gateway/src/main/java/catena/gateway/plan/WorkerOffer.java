package catena.gateway.plan;

import java.util.Objects;

/**
 * A worker that joined.
 *
 * @param id a stable id (its cluster address string)
 * @param memoryBytes memory it may use for weights plus KV cache, bytes, >= 0
 * @param cores cores it may use, >= 1
 * @param holding what it holds now, or null if nothing
 */
public record WorkerOffer(String id, long memoryBytes, int cores, Holding holding) {
    public WorkerOffer {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("worker offer: id='" + id + "', expected a non-blank id");
        }
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("worker " + id + ": memoryBytes=" + memoryBytes + ", expected >= 0");
        }
        if (cores < 1) {
            throw new IllegalArgumentException("worker " + id + ": cores=" + cores + ", expected >= 1");
        }
    }
}
