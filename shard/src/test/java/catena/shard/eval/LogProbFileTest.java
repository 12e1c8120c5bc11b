package catena.shard.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogProbFileTest {
    @TempDir
    Path tmp;

    @Test
    void shouldReadBackTokensAndRowsWhenWritten() throws Exception {
        ChunkPlan plan = ChunkPlan.of(13, 5, -1); // 2 chunks of 5, 2 scored rows each
        int vocab = 3;
        int[] tokens = {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1};
        Path f = tmp.resolve("base.lp");
        try (LogProbWriter w = new LogProbWriter(f, plan, vocab, tokens)) {
            for (int r = 0; r < 4; r++) {
                w.writeRow(new float[] {9, r, r + 0.5f, -r}, 1);
            }
        }
        try (LogProbReader in = new LogProbReader(f)) {
            assertThat(in.plan()).isEqualTo(plan);
            assertThat(in.vocab()).isEqualTo(vocab);
            assertThat(in.tokens()).containsExactly(tokens);
            float[] rows = new float[2 * vocab];
            in.readChunk(1, rows);
            assertThat(rows).containsExactly(2, 2.5f, -2, 3, 3.5f, -3);
        }
    }

    @Test
    void shouldRefuseAFileWhenItIsNotABaseRun() throws Exception {
        Path f = tmp.resolve("junk");
        Files.writeString(f, "this is not a saved run at all");
        assertThatThrownBy(() -> new LogProbReader(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("magic");
    }

    @Test
    void shouldRefuseAFileWhenItIsTruncated() throws Exception {
        ChunkPlan plan = ChunkPlan.of(13, 5, -1);
        Path f = tmp.resolve("short.lp");
        try (LogProbWriter w = new LogProbWriter(f, plan, 3, new int[13])) {
            w.writeRow(new float[3], 0); // one row of four
        }
        assertThatThrownBy(() -> new LogProbReader(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size");
    }
}
