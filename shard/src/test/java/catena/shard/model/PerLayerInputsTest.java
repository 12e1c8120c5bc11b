package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import catena.shard.Fixtures;
import catena.shard.gguf.GgufFile;
import catena.shard.tensor.Weights;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/**
 * A pipeline stage computes the per-layer inputs of its own layers from the token ids alone: they
 * equal the whole model's inputs for those layers. (The PLE fixture's KV sharing forbids an actual
 * split of it, so this checks the slice arithmetic directly.)
 */
class PerLayerInputsTest {
    @Test
    void aSliceComputesTheSameInputsForItsLayers() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("tiny/tiny-gemma4-ple-f32.gguf")); Arena arena = Arena.ofConfined()) {
            ModelConfig c = ModelConfig.from(f);
            Weights w = new Weights(f, true, arena);
            var embd = w.matrix("token_embd.weight");
            PerLayerInputs whole = new PerLayerInputs(w, c, embd, 0, 4);
            PerLayerInputs tail = new PerLayerInputs(w, c, embd, 2, 4);
            int[] ids = {2, 5, 700, 31, 1023};
            Batch batch = new Batch().add(null, ids, 0, ids.length);
            whole.compute(batch, ids.length);
            tail.compute(batch, ids.length);
            int p = c.pleDim();
            for (int r = 0; r < ids.length; r++) {
                for (int l = 2; l < 4; l++) {
                    for (int j = 0; j < p; j++) {
                        assertThat(tail.values[tail.offset(r, l) + j]).as("row %d layer %d [%d]", r, l, j)
                                .isCloseTo(whole.values[whole.offset(r, l) + j], within(1e-5f));
                    }
                }
            }
            assertThat(whole.values[whole.offset(1, 2)]).isNotEqualTo(whole.values[whole.offset(1, 0)]);
            assertThatThrownBy(() -> tail.compute(new Batch().add(null, 3), 3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id");
        }
    }
}
