package catena.gateway.plan;

import java.util.Objects;

/** One stage slot of a replica: layers [fromLayer, toLayerExclusive) served by worker {@code workerId}. */
public record Slot(int stage, int fromLayer, int toLayerExclusive, String workerId) {
    public Slot {
        Objects.requireNonNull(workerId, "workerId");
    }
}
