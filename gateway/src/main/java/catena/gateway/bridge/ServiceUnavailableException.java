package catena.gateway.bridge;

/** No replica can take a generation now (none loaded, or all lost); the client may retry later. */
public final class ServiceUnavailableException extends RuntimeException {
    public ServiceUnavailableException(String message) {
        super(message);
    }
}
