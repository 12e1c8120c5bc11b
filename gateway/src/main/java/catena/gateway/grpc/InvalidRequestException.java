package catena.gateway.grpc;

/** A request field is wrong; the message says which and what is expected (becomes INVALID_ARGUMENT). */
public final class InvalidRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(message);
    }
}
