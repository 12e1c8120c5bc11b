package catena.gateway.plan;

/** What a worker reports holding: layers [fromLayer, toLayerExclusive) of {@code model} as stage {@code stage} of replica {@code replica} under {@code epoch}. */
public record Holding(String model, int fromLayer, int toLayerExclusive, int replica, int stage, long epoch) {
}
