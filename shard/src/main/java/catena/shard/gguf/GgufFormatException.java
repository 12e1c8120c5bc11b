package catena.shard.gguf;

/**
 * A GGUF file that does not follow the format. The message names the problem and, where
 * there is one, the byte offset in the file, so that a user can find it with a hex dump.
 */
public final class GgufFormatException extends RuntimeException {
    public GgufFormatException(String message) {
        super(message);
    }

    public static GgufFormatException at(long offset, String what) {
        return new GgufFormatException(what + " (at byte offset " + offset + ")");
    }
}
