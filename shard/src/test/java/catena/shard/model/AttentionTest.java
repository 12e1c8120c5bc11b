package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import catena.shard.Fixtures;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The vector attention of each cache type against its plain-loop reference, on random keys, values and queries. */
class AttentionTest {
    @ParameterizedTest(name = "{0} kv={1}")
    @CsvSource({"tiny/tiny-gemma3-f32.gguf,F32", "tiny/tiny-gemma3-f32.gguf,F16", "tiny/tiny-gemma3-f32.gguf,Q8_0",
        "tiny/tiny-llama-f32.gguf,F32", "tiny/tiny-llama-f32.gguf,F16", "tiny/tiny-llama-f32.gguf,Q8_0",
        "tiny/tiny-gemma2-f32.gguf,F16", "tiny/tiny-gemma2-f32.gguf,Q8_0"})
    void shouldMatchTheScalarReferenceForEveryHead(String file, KvType type) throws Exception {
        try (Model m = Model.load(Fixtures.file(file), LoadOptions.keepF32(true).kvType(type))) {
            ModelConfig c = m.config();
            KvCache cache = m.newCache();
            int n = 45;
            cache.reserve(n);
            Random rnd = new Random(3);
            for (int l = 0; l < c.layerCount(); l++) {
                float[] k = new float[c.layer(l).kvDim()];
                float[] v = new float[k.length];
                for (int p = 0; p < n; p++) {
                    for (int j = 0; j < k.length; j++) {
                        k[j] = (float) rnd.nextGaussian();
                        v[j] = (float) rnd.nextGaussian();
                    }
                    if (c.ownsKv(l)) {
                        cache.store(l, p, k, 0, v, 0);
                    }
                }
            }
            cache.advance(n);
            // three rows at the end (each attends causally up to its own position), one batch
            int rows = 3;
            int[] pos = {n - 3, n - 2, n - 1};
            int[] seq = {0, 0, 0};
            Batch batch = new Batch().add(cache, rows);
            Attention attention = new Attention(c, type);
            for (int l = 0; l < c.layerCount(); l++) {
                LayerSpec ls = c.layer(l);
                float[] q = new float[rows * ls.qDim()];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) rnd.nextGaussian() * 2f;
                }
                float[] got = new float[q.length];
                attention.run(l, ls, batch, rows, pos, seq, q, got);
                float[] want = new float[ls.headDim()];
                // f16: a probability whose score differs from the plain sum's in the last bit may round
                // to the neighbouring half (2^-11 relative) — one such step per position at most
                float rel = type == KvType.F16 ? 1e-3f : 2e-5f;
                for (int r = 0; r < rows; r++) {
                    for (int h = 0; h < ls.heads(); h++) {
                        int off = r * ls.qDim() + h * ls.headDim();
                        AttentionReference.head(c, type, cache, l, pos[r], q, off, h, want, 0);
                        for (int j = 0; j < ls.headDim(); j++) {
                            assertThat(got[off + j]).as("layer %d row %d head %d [%d]", l, r, h, j)
                                    .isCloseTo(want[j], within(rel + rel * Math.abs(want[j])));
                        }
                    }
                }
            }
        }
    }
}
