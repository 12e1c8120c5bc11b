package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The repacked layout holds exactly the file's blocks: same scales, same quants, same rows. */
class Q8MatrixTest {
    /** The matrix as GGUF Q8_0 blocks again. */
    static byte[] blocks(Q8Matrix m) {
        MemorySegment out = MemorySegment.ofArray(new byte[Math.toIntExact(m.rows() * m.rowBytes())]);
        for (int r = 0; r < m.rows(); r++) {
            m.rowBlocks(r, out, r * m.rowBytes());
        }
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

    private static MemorySegment fileBlocks(Arena arena, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        long bytes = (long) rows * (cols / 32) * Q8Matrix.BLOCK_BYTES;
        // one byte past an aligned address, as a tensor inside a GGUF mapping may be
        MemorySegment seg = arena.allocate(bytes + 1, 64).asSlice(1, bytes);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) rnd.nextGaussian();
            }
            Q8_0.quantize(row, 0, cols, seg, r * (bytes / rows));
        }
        return seg.asReadOnly();
    }

    @Test
    void repackingKeepsEveryByteAndValue() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 7;
            int cols = 96;
            MemorySegment file = fileBlocks(arena, rows, cols, 1);
            Q8Matrix m = Q8Matrix.fromBlocks(file, rows, cols, arena);
            assertThat(blocks(m)).isEqualTo(file.toArray(ValueLayout.JAVA_BYTE));
            assertThat(m.byteSize()).isEqualTo(file.byteSize());
            // held with f32 scales: 36 bytes per block of 32
            assertThat(m.residentBytes()).isEqualTo((long) rows * cols / 32 * 36);
            float[] row = new float[cols];
            m.row(5, row, 0);
            long blk = 5 * m.rowBytes() + 2 * Q8Matrix.BLOCK_BYTES;
            float d = Float.float16ToFloat(file.get(Q8Matrix.F16, blk));
            assertThat(row[64 + 3]).isEqualTo(d * file.get(ValueLayout.JAVA_BYTE, blk + 2 + 3));
            assertThat(m.scale(5, 2)).isEqualTo(d);
        }
    }

    /**
     * Every f16 scale, including zeros, subnormals and infinities, widens to f32 and comes back as
     * the same bits; a signalling NaN comes back quieted (still NaN).
     */
    @Test
    void everyF16ScaleSurvivesTheF32Scales() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 1 << 16 >> 5;
            MemorySegment file = arena.allocate((long) rows * 32 * Q8Matrix.BLOCK_BYTES);
            for (int h = 0; h < 1 << 16; h++) {
                file.set(Q8Matrix.F16, (long) h * Q8Matrix.BLOCK_BYTES, (short) h);
                file.set(ValueLayout.JAVA_BYTE, (long) h * Q8Matrix.BLOCK_BYTES + 2 + h % 32, (byte) (h % 255 - 127));
            }
            Q8Matrix m = Q8Matrix.fromBlocks(file, rows, 32 * 32, arena);
            MemorySegment back = MemorySegment.ofArray(blocks(m));
            int quieted = 0;
            for (int h = 0; h < 1 << 16; h++) {
                long at = (long) h * Q8Matrix.BLOCK_BYTES;
                assertThat(back.asSlice(at + 2, 32).mismatch(file.asSlice(at + 2, 32))).isEqualTo(-1L);
                float d = m.scale(h / 32, h % 32);
                short out = back.get(Q8Matrix.F16, at);
                boolean signallingNaN = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0 && (h & 0x200) == 0;
                if (signallingNaN) {
                    assertThat(d).isNaN();
                    quieted++;
                } else {
                    assertThat(Float.floatToRawIntBits(d)).isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat((short) h)));
                    assertThat(out & 0xffff).isEqualTo(h);
                }
            }
            assertThat(quieted).isEqualTo(2 * 511);
        }
    }

    @Test
    void sliceSeesTheSameRows() {
        try (Arena arena = Arena.ofConfined()) {
            Q8Matrix m = Q8Matrix.fromBlocks(fileBlocks(arena, 10, 64, 2), 10, 64, arena);
            Q8Matrix s = m.slice(3, 4);
            float[] a = new float[64];
            float[] b = new float[64];
            for (int r = 0; r < 4; r++) {
                m.row(3 + r, a, 0);
                s.row(r, b, 0);
                assertThat(b).isEqualTo(a);
            }
        }
    }

    @Test
    void refusesWrongSizes() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> Q8Matrix.fromBlocks(arena.allocate(33), 1, 32, arena))
                    .hasMessageContaining("33 bytes, expected 34 for 1x32");
            assertThatThrownBy(() -> Q8Matrix.allocate(2, 48, arena))
                    .hasMessageContaining("multiple of 32 wide, got 48");
        }
    }
}
