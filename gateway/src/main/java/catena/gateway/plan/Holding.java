package catena.gateway.plan;

import java.util.Objects;

/**
 * What a worker reports holding: layers [fromLayer, toLayerExclusive) of {@code model}, as stage
 * {@code stage} of replica {@code replica} under {@code epoch}. Only checked for consistency when a
 * plan owner adopts a running fleet, so any values are accepted here.
 */
public record Holding(String model, int fromLayer, int toLayerExclusive, int replica, int stage, long epoch) {
    public Holding {
        Objects.requireNonNull(model, "model");
    }
}
