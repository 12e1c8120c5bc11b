package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Q4MatrixTest {
    @Test
    void shouldHoldTheFilesBlocksAndDecodeAsDequantDoesWhenRepacked() {
        int rows = 5;
        int cols = 96;
        Random rnd = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = arena.allocate((long) rows * cols / 32 * Q4_0.BLOCK_BYTES);
            float[] src = new float[cols];
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++) {
                    src[k] = (float) rnd.nextGaussian();
                }
                Q4_0.quantize(src, 0, cols, blocks, (long) r * cols / 32 * Q4_0.BLOCK_BYTES);
            }
            Q4Matrix m = Q4Matrix.fromBlocks(blocks, rows, cols, arena);
            assertThat(m.byteSize()).isEqualTo(blocks.byteSize());
            assertThat(m.residentBytes()).isEqualTo((long) rows * cols / 32 * 20);
            float[] ours = new float[cols];
            float[] ref = new float[cols];
            MemorySegment back = arena.allocate(blocks.byteSize());
            for (int r = 0; r < rows; r++) {
                m.row(r, ours, 0);
                Dequant.decode(GgmlType.Q4_0, blocks, (long) r * m.rowBytes(), ref, 0, cols);
                assertThat(ours).as("row %d", r).containsExactly(ref);
                m.rowBlocks(r, back, r * m.rowBytes());
            }
            assertThat(back.mismatch(blocks)).as("the file's bytes back").isEqualTo(-1L);
            Q4Matrix s = m.slice(2, 2);
            s.row(1, ours, 0);
            m.row(3, ref, 0);
            assertThat(ours).containsExactly(ref);
        }
    }

    @Test
    void shouldNameTheSizesWhenDataDoesNotFit() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> Q4Matrix.fromBlocks(arena.allocate(35), 2, 32, arena))
                    .hasMessage("Q4_0 data is 35 bytes, expected 36 for 2x32");
            assertThatThrownBy(() -> Q4Matrix.allocate(2, 48, arena))
                    .hasMessage("Q4_0 rows must be a multiple of 32 wide, got 48");
        }
    }
}
