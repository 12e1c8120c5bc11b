package catena.gateway.plan;

/**
 * A worker that joined: a stable id (its actor path with UID), the memory it may use for weights
 * and KV cache, its cores, and what it holds now (null if nothing).
 */
public record WorkerOffer(String id, long memoryBytes, int cores, Holding holding) {
}
