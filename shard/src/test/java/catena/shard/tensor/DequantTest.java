package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Stored element types decode as GEMMA_SPEC.md §2 defines them; Q8_0 quantizes as llama.cpp does. */
class DequantTest {
    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void f16IncludingSubnormalsAndBf16() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8);
            s.set(LE16, 0, (short) 0x3C00); // 1.0
            s.set(LE16, 2, (short) 0xC000); // -2.0
            s.set(LE16, 4, (short) 0x0001); // smallest subnormal 2^-24
            s.set(LE16, 6, (short) 0x7BFF); // 65504
            float[] out = new float[4];
            Dequant.decode(GgmlType.F16, s, 0, out, 0, 4);
            assertThat(out).containsExactly(1f, -2f, (float) Math.pow(2, -24), 65504f);
            s.set(LE16, 0, (short) 0x3F80); // bf16 1.0
            s.set(LE16, 2, (short) 0xC0A0); // bf16 -5.0
            Dequant.decode(GgmlType.BF16, s, 0, out, 0, 2);
            assertThat(out[0]).isEqualTo(1f);
            assertThat(out[1]).isEqualTo(-5f);
        }
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalf() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(18);
            s.set(LE16, 0, Float.floatToFloat16(0.5f));
            for (int j = 0; j < 16; j++) {
                // low nibble j, high nibble 15 - j
                s.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (j | ((15 - j) << 4)));
            }
            float[] out = new float[32];
            Dequant.decode(GgmlType.Q4_0, s, 0, out, 0, 32);
            for (int j = 0; j < 16; j++) {
                assertThat(out[j]).isEqualTo((j - 8) * 0.5f);
                assertThat(out[j + 16]).isEqualTo((15 - j - 8) * 0.5f);
            }
        }
    }

    @Test
    void q8_0QuantizationRoundsHalfAwayFromZeroAndDecodes() {
        float[] x = new float[32];
        x[0] = 127f; // d = 1
        x[1] = 2.5f; // roundf -> 3 (Math.round would also give 3)
        x[2] = -2.5f; // roundf -> -3 (Math.round gives -2)
        x[3] = -0.49f;
        x[4] = 0.5f;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(34);
            Q8_0.quantize(x, 0, 32, s, 0);
            assertThat(Float.float16ToFloat(s.get(LE16, 0))).isEqualTo(1f);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 127);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 3)).isEqualTo((byte) 3);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 4)).isEqualTo((byte) -3);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 5)).isEqualTo((byte) 0);
            assertThat(s.get(ValueLayout.JAVA_BYTE, 6)).isEqualTo((byte) 1);
            float[] back = new float[32];
            Q8Matrix.fromBlocks(s, 1, 32, java.lang.foreign.Arena.ofAuto()).row(0, back, 0);
            assertThat(back[0]).isEqualTo(127f);
            assertThat(back[2]).isEqualTo(-3f);
        }
    }

    @Test
    void allZeroBlockHasZeroScale() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(34);
            Q8_0.quantize(new float[32], 0, 32, s, 0);
            for (int i = 0; i < 34; i++) {
                assertThat(s.get(ValueLayout.JAVA_BYTE, i)).isZero();
            }
        }
    }
}
