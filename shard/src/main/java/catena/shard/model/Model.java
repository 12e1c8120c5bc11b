package catena.shard.model;

import java.nio.file.Path;

/**
 * A loaded model, or a contiguous slice of its layers (a pipeline stage). Pure computation:
 * no threads of its own beyond the shared compute pool, no I/O after load. Thread-safe for
 * concurrent reads, but {@link #forward} calls must not share a {@link KvCache}.
 */
public final class Model implements AutoCloseable {

    /** Opens and maps the GGUF, validating it; refuses unknown architectures with a clear message. */
    public static Model load(Path path, LoadOptions options) throws java.io.IOException {
        throw new UnsupportedOperationException("not built yet");
    }

    public ModelConfig config() {
        throw new UnsupportedOperationException();
    }

    /** First layer held (inclusive). */
    public int fromLayer() {
        throw new UnsupportedOperationException();
    }

    /** Last layer held (exclusive). */
    public int toLayer() {
        throw new UnsupportedOperationException();
    }

    /** Whether this slice holds the token embedding (it starts at layer 0). */
    public boolean hasEmbedding() {
        return fromLayer() == 0;
    }

    /** Whether this slice holds the final norm and output head (it ends at the last layer). */
    public boolean hasHead() {
        return toLayer() == config().layerCount();
    }

    /** A fresh KV cache for one sequence, covering this slice's layers. */
    public KvCache newCache() {
        throw new UnsupportedOperationException();
    }

    /** Embeds {@code n} tokens into {@code x[0 .. n*dim)} (stage 0 only). */
    public void embed(int[] tokens, int off, int n, float[] x) {
        throw new UnsupportedOperationException();
    }

    /**
     * Runs this slice's layers over every row of {@code batch}, in place on {@code x} ([rows][dim]),
     * appending each row's keys and values to its sequence's cache.
     */
    public void forward(Batch batch, float[] x) {
        throw new UnsupportedOperationException();
    }

    /** Final norm and output head on row {@code row} of {@code x}, into {@code logits[0 .. vocab)} (last stage only). */
    public void logits(float[] x, int row, float[] logits) {
        throw new UnsupportedOperationException();
    }

    /** Bytes of weights each layer reads per token (what stage balancing cuts by). */
    public static long[] layerBytes(Path path) throws java.io.IOException {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
