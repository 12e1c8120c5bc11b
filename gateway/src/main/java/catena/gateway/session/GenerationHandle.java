package catena.gateway.session;

/**
 * The transport's controls of a running generation. Thread-safe: transports call these from
 * their own threads.
 */
public interface GenerationHandle {

    /** The client can take more output (gRPC onReady, HTTP demand). */
    void ready();

    /** The client went away, cancelled, or its deadline expired: stop and free the sequence. */
    void cancel();
}
