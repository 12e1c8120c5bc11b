package catena.worker.serial;

/**
 * Marker of every message that may cross JVMs; bound to {@link ClusterSerializer} in
 * {@code reference.conf}, so Pekko never falls back to Java serialization (which is off).
 */
public interface ClusterMessage {
}
