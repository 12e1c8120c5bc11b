package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.gguf.GgufFile;
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
    void rowsNotAMultipleOf32StayF32() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("stories/stories260K-f32.gguf"));
             Arena arena = Arena.ofConfined()) {
            Weights w = new Weights(f, false, arena);
            assertThat(w.matrix("blk.0.ffn_down.weight")).isInstanceOf(F32Matrix.class);
            assertThat(w.matrix("blk.0.ffn_up.weight")).isInstanceOf(Q8Matrix.class);
        }
    }
}
