package catena.shard.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector row widenings equal their plain-loop references bit for bit, specials included. */
class KvRowsTest {
    @Test
    void shouldWidenEveryHalfExactlyAsFloat16ToFloat() {
        int n = 1 << 16;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment page = a.allocate(2L * n + 6);
            for (int i = 0; i < n; i++) {
                page.set(ValueLayout.JAVA_SHORT_UNALIGNED, 6 + 2L * i, (short) i); // every half: zeros, subnormals, inf, NaN
            }
            float[] vec = new float[n + 3];
            float[] ref = new float[n + 3];
            KvRows.halvesToFloats(page, 6, vec, 3, n);
            KvRows.halvesToFloatsScalar(page, 6, ref, 3, n);
            for (int i = 3; i < n + 3; i++) {
                assertThat(Float.floatToRawIntBits(vec[i])).as("half %04x", i - 3)
                        .isEqualTo(Float.floatToRawIntBits(ref[i]));
            }
        }
    }

    @Test
    void shouldWidenBytesAsSignedIntegers() {
        int n = 301;
        Random rnd = new Random(2);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment page = a.allocate(n + 1);
            for (int i = 0; i <= n; i++) {
                page.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
            }
            float[] vec = new float[n];
            float[] ref = new float[n];
            KvRows.bytesToFloats(page, 1, vec, 0, n);
            KvRows.bytesToFloatsScalar(page, 1, ref, 0, n);
            assertThat(vec).isEqualTo(ref);
        }
    }
}
