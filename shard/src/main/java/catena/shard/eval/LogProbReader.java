package catena.shard.eval;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** Reads a base run saved in {@link LogProbFormat}, checking its header against the file's size. */
public final class LogProbReader implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final ChunkPlan plan;
    private final int vocab;
    private final int[] tokens;
    private final ByteBuffer chunkBytes;

    public LogProbReader(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            ByteBuffer h = read(0, LogProbFormat.FIXED_HEADER, size);
            byte[] magic = new byte[LogProbFormat.MAGIC.length];
            h.get(magic);
            if (!Arrays.equals(magic, LogProbFormat.MAGIC)) {
                throw bad("magic", "is not CATLPB01 (not a file written by perplexity --save-logits)");
            }
            int ctx = h.getInt();
            this.vocab = h.getInt();
            int chunks = h.getInt();
            int tokenCount = h.getInt();
            if (vocab < 1 || tokenCount < 0) {
                throw bad("header", "vocab=" + vocab + " tokenCount=" + tokenCount + ", expected positive");
            }
            this.plan = new ChunkPlan(ctx, chunks);
            if (tokenCount < plan.tokensUsed()) {
                throw bad("tokenCount", tokenCount + ", expected at least ctx*chunks=" + plan.tokensUsed());
            }
            long expected = LogProbFormat.fileBytes(plan, vocab, tokenCount);
            if (size != expected) {
                throw bad("size", size + " bytes, expected " + expected + " for ctx=" + ctx + " vocab=" + vocab
                        + " chunks=" + chunks + " tokens=" + tokenCount);
            }
            ByteBuffer t = read(LogProbFormat.FIXED_HEADER, 4L * tokenCount, size);
            this.tokens = new int[tokenCount];
            t.asIntBuffer().get(tokens);
            this.chunkBytes = ByteBuffer.allocate(Math.toIntExact(4L * vocab * plan.scoredPerChunk()))
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public ChunkPlan plan() {
        return plan;
    }

    public int vocab() {
        return vocab;
    }

    public int[] tokens() {
        return tokens.clone();
    }

    /** Chunk {@code chunk}'s scored rows into {@code out} as [scoredPerChunk][vocab]. */
    public void readChunk(int chunk, float[] out) throws IOException {
        long off = LogProbFormat.headerBytes(tokens.length) + (long) chunk * chunkBytes.capacity();
        chunkBytes.clear();
        while (chunkBytes.hasRemaining()) {
            if (channel.read(chunkBytes, off + chunkBytes.position()) < 0) {
                throw new IOException(path + ": ends inside chunk " + chunk);
            }
        }
        chunkBytes.flip().asFloatBuffer().get(out, 0, chunkBytes.capacity() / 4);
    }

    private ByteBuffer read(long off, long len, long size) throws IOException {
        if (off + len > size) {
            throw bad("size", size + " bytes, too short for its header");
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(len)).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (channel.read(b, off + b.position()) < 0) {
                throw bad("size", "ends at byte " + (off + b.position()));
            }
        }
        return b.flip();
    }

    private IllegalArgumentException bad(String field, String detail) {
        return new IllegalArgumentException("base log-prob file " + path + ": " + field + " " + detail);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
