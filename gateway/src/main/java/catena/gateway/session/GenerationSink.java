package catena.gateway.session;

/**
 * Where one generation's output goes: implemented by each transport adapter (gRPC, HTTP), so
 * sessions speak only the domain. Called from the session's actor, one call at a time.
 * Back-pressure: the session sends only while {@link #isReady()} and resumes when the transport
 * calls {@code GenerationHandle.ready()}; nothing is dropped.
 */
public interface GenerationSink {

    /** Whether the client can take another output now without the transport buffering it. */
    boolean isReady();

    /** The next piece of the completion; the last one carries the finish reason and usage. */
    void onOutput(GenerationOutput output);

    /** The generation ended normally after its last output. */
    void onCompleted();

    /** The generation cannot continue; nothing follows. */
    void onFailed(GenerationFailure failure);
}
