package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import catena.shard.Fixtures;
import catena.shard.gguf.GgufFile;
import catena.shard.tensor.Weights;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** Gemma 4 proportional RoPE: the file's rope_freqs divisors and the 25 % rule rotate the same pairs. */
class RopeTest {
    @Test
    void partialRotationMatchesTheFilesRopeFreqs() throws Exception {
        float[] freqs;
        try (GgufFile f = GgufFile.open(Fixtures.file("tiny/tiny-gemma4-f32.gguf")); Arena arena = Arena.ofConfined()) {
            freqs = new Weights(f, true, arena).vector("rope_freqs.weight");
        }
        int dims = 2 * freqs.length;
        Rope fromFile = new Rope(dims, 1e6f, 1f, true, freqs);
        Rope rule = new Rope(dims, 1e6f, 1f, true, Rope.partialFactors(dims, 0.25));
        float[] a = new float[dims];
        for (int i = 0; i < dims; i++) {
            a[i] = (float) Math.sin(i * 0.37 + 0.1);
        }
        float[] b = a.clone();
        float[] orig = a.clone();
        float[] cos = new float[dims / 2];
        float[] sin = new float[dims / 2];
        fromFile.angles(37, cos, sin);
        fromFile.rotate(a, 0, 1, dims, cos, sin);
        rule.angles(37, cos, sin);
        rule.rotate(b, 0, 1, dims, cos, sin);
        int rotated = dims / 8;
        for (int i = 0; i < dims; i++) {
            assertThat(b[i]).as("dim %d", i).isCloseTo(a[i], within(1e-6f));
            boolean moves = i % (dims / 2) < rotated;
            assertThat(b[i] != orig[i]).as("dim %d rotates", i).isEqualTo(moves);
        }
    }

    @Test
    void rememberedAnglesEqualFreshOnesAcrossMemoCollisions() {
        // positions 5, 133 and 261 share a memo slot; each must still get its own angles
        int dims = 256;
        Rope memo = new Rope(dims, 10000f, 1f, true);
        float[] cos = new float[dims / 2];
        float[] sin = new float[dims / 2];
        float[] wantCos = new float[dims / 2];
        float[] wantSin = new float[dims / 2];
        for (int pos : new int[] {5, 133, 5, 261, 133, 0, 127, 5}) {
            memo.angles(pos, cos, sin);
            new Rope(dims, 10000f, 1f, true).angles(pos, wantCos, wantSin);
            assertThat(cos).as("cos at %d", pos).containsExactly(wantCos);
            assertThat(sin).as("sin at %d", pos).containsExactly(wantSin);
        }
        assertThat(wantCos[1]).isEqualTo((float) Math.cos(5 * Math.pow(10000, -2.0 / dims)));
    }
}
