package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Load-time conversion: F32 weights quantized at load equal llama-quantize's Q8_0 byte for byte. */
class WeightsTest {
    @Test
    void f32QuantizedAtLoadEqualsLlamaQuantize() throws Exception {
        try (GgufFile f32 = GgufFile.open(Fixtures.file("tiny/tiny-gemma3-f32.gguf"));
             GgufFile q8 = GgufFile.open(Fixtures.file("tiny/tiny-gemma3-q8_0.gguf"));
             Arena arena = Arena.ofConfined()) {
            Weights converted = new Weights(f32, false, arena);
            Weights inPlace = new Weights(q8, false, arena);
            for (String name : new String[] {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "token_embd.weight"}) {
                Matrix a = converted.matrix(name);
                Matrix b = inPlace.matrix(name);
                assertThat(a).isInstanceOf(Q8Matrix.class);
                assertThat(Q8MatrixTest.blocks((Q8Matrix) a)).as(name).isEqualTo(Q8MatrixTest.blocks((Q8Matrix) b));
            }
            Matrix kept = new Weights(f32, true, arena).matrix("blk.0.attn_q.weight");
            assertThat(kept).isInstanceOf(F32Matrix.class);
        }
    }

    @Test
    void shouldHoldQ4FilesWeightBytesWhenLoadingQ4Tensors() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("tiny/tiny-gemma3-q4_0.gguf"));
             Arena arena = Arena.ofConfined()) {
            Weights w = new Weights(f, false, arena);
            int q4 = 0;
            for (TensorInfo t : f.tensors().values()) {
                if (t.shape().length < 2) {
                    continue;
                }
                Matrix m = w.matrix(t.name());
                assertThat(m.byteSize()).as(t.name()).isEqualTo(t.byteSize());
                if (t.type() == GgmlType.Q4_0) {
                    q4++;
                    assertThat(m).as(t.name()).isInstanceOf(Q4Matrix.class);
                    // 16 bytes of nibbles + an f32 scale per block: the file's 18 with the scale widened
                    assertThat(m.residentBytes()).as(t.name()).isEqualTo(t.byteSize() / 18 * 20);
                    MemorySegment back = arena.allocate(t.byteSize());
                    for (int r = 0; r < m.rows(); r++) {
                        ((Q4Matrix) m).rowBlocks(r, back, r * m.rowBytes());
                    }
                    assertThat(back.mismatch(f.tensorData(t))).as(t.name() + " bytes").isEqualTo(-1L);
                } else {
                    assertThat(t.type()).isEqualTo(GgmlType.Q8_0);
                    assertThat(m).as(t.name()).isInstanceOf(Q8Matrix.class);
                }
            }
            assertThat(q4).isGreaterThan(5);
            assertThat(new Weights(f, false, true, arena).matrix("blk.0.ffn_up.weight")).as("--widen-q4")
                    .isInstanceOf(Q8Matrix.class);
            assertThat(new Weights(f, true, arena).matrix("blk.0.ffn_up.weight")).isInstanceOf(F32Matrix.class);
        }
    }

    @Test
    void rowsNotAMultipleOf32StayF32() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("stories/stories260K-f32.gguf"));
             Arena arena = Arena.ofConfined()) {
            Weights w = new Weights(f, false, arena);
            assertThat(w.matrix("blk.0.ffn_down.weight")).isInstanceOf(F32Matrix.class);
            assertThat(w.matrix("blk.0.ffn_up.weight")).isInstanceOf(Q8Matrix.class);
        }
    }
}
