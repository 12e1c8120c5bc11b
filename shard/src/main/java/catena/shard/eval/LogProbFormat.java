package catena.shard.eval;

import java.nio.charset.StandardCharsets;

/**
 * The file a base run saves for a later KL-divergence run ({@code --save-logits}), little-endian:
 * the 8-byte magic {@code CATLPB01}; int32 ctx, vocab, chunks, tokenCount; tokenCount int32 token ids
 * (the whole tokenized text, so the later run needs no text and no tokenizer); then, chunk after chunk,
 * the {@link ChunkPlan#scoredPerChunk()} scored rows of {@code vocab} float32 log-probabilities. Unlike
 * llama.cpp's {@code .kld} files (16-bit log-probabilities) the rows are exact, at twice the size.
 */
final class LogProbFormat {
    static final byte[] MAGIC = "CATLPB01".getBytes(StandardCharsets.US_ASCII);
    static final int FIXED_HEADER = MAGIC.length + 4 * Integer.BYTES;

    private LogProbFormat() {
    }

    static long headerBytes(int tokenCount) {
        return FIXED_HEADER + 4L * tokenCount;
    }

    static long fileBytes(ChunkPlan plan, int vocab, int tokenCount) {
        return headerBytes(tokenCount) + 4L * vocab * plan.scoredTotal();
    }
}
