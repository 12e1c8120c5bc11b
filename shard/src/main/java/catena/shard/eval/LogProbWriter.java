package catena.shard.eval;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Writes a base run's log-probabilities in {@link LogProbFormat}; rows in plan order. */
public final class LogProbWriter implements AutoCloseable {
    private final FileChannel channel;
    private final ByteBuffer row;
    private final int vocab;

    public LogProbWriter(Path path, ChunkPlan plan, int vocab, int[] tokens) throws IOException {
        this.vocab = vocab;
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ByteBuffer h = ByteBuffer.allocate(Math.toIntExact(LogProbFormat.headerBytes(tokens.length)))
                .order(ByteOrder.LITTLE_ENDIAN);
        h.put(LogProbFormat.MAGIC).putInt(plan.ctx()).putInt(vocab).putInt(plan.chunks()).putInt(tokens.length);
        for (int t : tokens) {
            h.putInt(t);
        }
        writeFully(h.flip());
        this.row = ByteBuffer.allocate(4 * vocab).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Appends one row of {@code vocab} log-probabilities from {@code logProbs[off ..]}. */
    public void writeRow(float[] logProbs, int off) throws IOException {
        row.clear();
        row.asFloatBuffer().put(logProbs, off, vocab);
        row.limit(4 * vocab);
        writeFully(row);
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
