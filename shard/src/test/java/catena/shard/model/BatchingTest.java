package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same tokens give the same logits however they are batched: one pass, chunks that straddle
 * the sliding window, one token at a time, or interleaved with other sequences in one batch (the
 * pipeline's continuous batching) — bit for bit, also before and after the JIT compiles the kernels. Sliding layers keep a ring, so 60 tokens wrap a window of 24.
 */
class BatchingTest {
    static final int N = 60;

    @ParameterizedTest
    @ValueSource(strings = {"tiny/tiny-gemma2-f32.gguf", "tiny/tiny-gemma3-f32.gguf", "tiny/tiny-llama-f32.gguf",
        "tiny/tiny-gemma4-f32.gguf", "tiny/tiny-gemma4-ple-f32.gguf", "tiny/tiny-gemma4-moe-f32.gguf",
        "tiny/tiny-gemma3-q8_0.gguf", "tiny/tiny-gemma3-q4_0.gguf"})
    void logitsDoNotDependOnBatching(String file) throws Exception {
        check(file, LoadOptions.keepF32(file.contains("f32")));
    }

    static Stream<Arguments> quantizedCaches() {
        return Stream.of("tiny/tiny-gemma3-f32.gguf", "tiny/tiny-llama-f32.gguf", "tiny/tiny-gemma4-ple-f32.gguf",
                "tiny/tiny-gemma-q8_0.gguf").flatMap(f -> Stream.of(KvType.F16, KvType.Q8_0).map(t -> Arguments.of(f, t)));
    }

    /** Each cache type keeps the invariance: f16 and q8_0 rows are written once and read the same way by any batch. */
    @ParameterizedTest(name = "{0} kv={1}")
    @MethodSource("quantizedCaches")
    void logitsDoNotDependOnBatchingWithF16AndQ8Caches(String file, KvType type) throws Exception {
        check(file, LoadOptions.keepF32(file.contains("f32")).kvType(type));
    }

    private static void check(String file, LoadOptions options) throws Exception {
        Path path = Fixtures.file(file);
        try (Model m = Model.load(path, options)) {
            int vocab = m.config().vocabSize();
            int[][] seqs = new int[3][N];
            Random rnd = new Random(7);
            for (int[] s : seqs) {
                s[0] = 2;
                for (int i = 1; i < N; i++) {
                    s[i] = 10 + rnd.nextInt(vocab - 10);
                }
            }
            float[][] reference = new float[3][];
            for (int i = 0; i < 3; i++) {
                reference[i] = Runs.teacherForced(path, options, seqs[i], N);
            }
            // Interleaved: sequence 0 in chunks of 7, sequence 1 one token per pass, sequence 2 in chunks of 25.
            int[] chunk = {7, 1, 25};
            KvCache[] caches = {m.newCache(), m.newCache(), m.newCache()};
            int[] done = new int[3];
            float[][] got = {new float[N * vocab], new float[N * vocab], new float[N * vocab]};
            Batch batch = new Batch();
            float[] x = new float[(7 + 1 + 25) * m.config().dim()];
            float[] logits = new float[vocab];
            int dim = m.config().dim();
            float[] rows = new float[25 * dim];
            while (done[0] < N || done[1] < N || done[2] < N) {
                batch.clear();
                int row = 0;
                int[] start = new int[3];
                int[] count = new int[3];
                for (int i = 0; i < 3; i++) {
                    count[i] = Math.min(chunk[i], N - done[i]);
                    if (count[i] == 0) {
                        continue;
                    }
                    m.embed(seqs[i], done[i], count[i], rows);
                    System.arraycopy(rows, 0, x, row * dim, count[i] * dim);
                    batch.add(caches[i], seqs[i], done[i], count[i]);
                    start[i] = row;
                    row += count[i];
                }
                m.forward(batch, x);
                for (int i = 0; i < 3; i++) {
                    for (int r = 0; r < count[i]; r++) {
                        m.logits(x, start[i] + r, logits);
                        System.arraycopy(logits, 0, got[i], (done[i] + r) * vocab, vocab);
                    }
                    done[i] += count[i];
                }
            }
            for (int i = 0; i < 3; i++) {
                for (int k = 0; k < N * vocab; k++) {
                    // Bit-identical, F32 and Q8_0 alike: a replica that resumes a sequence (re-prefilling
                    // what another computed one token at a time) must reproduce it exactly.
                    assertThat(got[i][k]).as("%s seq %d pos %d id %d", file, i, k / vocab, k % vocab)
                            .isEqualTo(reference[i][k]);
                }
            }
            assertThat(caches[0].length()).isEqualTo(N);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny/tiny-gemma2-q8_0.gguf", "tiny/tiny-llama-q8_0.gguf"})
    void oneHeadPassOverManyRowsEqualsOneRowAtATime(String file) throws Exception {
        try (Model m = Model.load(Fixtures.file(file), LoadOptions.defaults())) {
            int vocab = m.config().vocabSize();
            int[] ids = {2, 40, 41, 42, 43, 44, 45};
            float[] x = new float[ids.length * m.config().dim()];
            m.embed(ids, 0, ids.length, x);
            m.forward(new Batch().add(m.newCache(), ids, 0, ids.length), x);
            int[] rows = {6, 0, 3, 5, 1};
            float[] batched = new float[rows.length * vocab];
            m.logits(x, rows, rows.length, batched);
            float[] one = new float[vocab];
            for (int i = 0; i < rows.length; i++) {
                m.logits(x, rows[i], one);
                assertThat(java.util.Arrays.copyOfRange(batched, i * vocab, (i + 1) * vocab)).isEqualTo(one);
            }
        }
    }
}
