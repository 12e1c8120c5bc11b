package catena.gateway.scaling;

/** Where the worker count lives (the worker StatefulSet's scale); calls may block on the network. */
public interface WorkerPool {
    /** The pool's desired size now. */
    int replicas();

    /** Asks for {@code replicas} workers. */
    void scaleTo(int replicas);
}
