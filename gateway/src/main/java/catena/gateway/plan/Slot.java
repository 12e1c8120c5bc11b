package catena.gateway.plan;

/** One stage slot of a replica: layers [fromLayer, toLayerExclusive) held by the worker {@code workerId}. */
public record Slot(int stage, int fromLayer, int toLayerExclusive, String workerId) {
}
