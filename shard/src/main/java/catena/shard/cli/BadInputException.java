package catena.shard.cli;

/** A problem with what the user gave us (exit code 2), as opposed to a failure of ours (exit code 1). */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }
}
