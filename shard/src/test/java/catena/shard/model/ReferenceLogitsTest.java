package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.Fixtures.RefCase;
import catena.shard.sample.Sampler;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every position's logits against llama.cpp's, with the fixtures' README rules: F32 weights within
 * 0.05 + 1e-3·|ref| per logit and the same argmax where the reference margin exceeds 0.1; Q8_0 weights
 * with a prompt-row RMS error at most 1.5× llama.cpp's own Q8_0-vs-F32 RMS difference; Q4_0 weights
 * (held as Q4_0) by the rule of the fixtures' other reference sets: at most 1.5× llama.cpp's own
 * Q4_0-vs-F32 RMS difference + 0.005. The prompt
 * runs as one batched pass and the generated tokens one at a time, as in real inference.
 */
class ReferenceLogitsTest {
    static final Set<String> ARCHS = Set.of("llama", "gemma", "gemma2", "gemma3", "gemma4", "gemma4-ple",
            "gemma4-moe", "stories");

    static Stream<RefCase> f32Cases() {
        return Fixtures.refCases().stream()
                .filter(c -> c.kvCache().equals("f32") && c.weights().equals("f32") && ARCHS.contains(c.arch()));
    }

    static Stream<RefCase> q8Cases() {
        return Fixtures.refCases().stream()
                .filter(c -> c.kvCache().equals("f32") && c.weights().equals("q8_0") && ARCHS.contains(c.arch()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("f32Cases")
    void f32LogitsMatchLlamaCpp(RefCase c) throws Exception {
        float[] ours = Runs.teacherForced(Fixtures.file(c.model()), true, c.teacherTokens(), c.prompt().length);
        float[] ref = c.referenceLogits();
        int vocab = c.vocab();
        for (int r = 0; r < c.rows(); r++) {
            double worst = 0;
            int worstAt = -1;
            for (int v = 0; v < vocab; v++) {
                float a = ours[r * vocab + v];
                float b = ref[r * vocab + v];
                double excess = Math.abs(a - b) - (0.05 + 1e-3 * Math.abs(b));
                if (!(excess <= worst) || worstAt < 0) {
                    worst = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : Math.max(worst, excess);
                    worstAt = v;
                }
            }
            assertThat(worst).as("%s row %d: worst logit (id %d) ours %s ref %s", c, r, worstAt,
                    ours[r * vocab + worstAt], ref[r * vocab + worstAt]).isLessThanOrEqualTo(0.0);
            int refTop = Sampler.argmax(ref, r * vocab, vocab);
            if (Runs.margin(ref, r * vocab, vocab) > 0.1) {
                assertThat(Sampler.argmax(ours, r * vocab, vocab)).as("%s row %d argmax", c, r).isEqualTo(refTop);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("q8Cases")
    void q8LogitsWithinLlamaCppQuantizationError(RefCase c) throws Exception {
        RefCase f32 = Fixtures.refCases().stream()
                .filter(o -> o.kvCache().equals("f32") && o.weights().equals("f32") && o.arch().equals(c.arch())
                        && o.promptName().equals(c.promptName()))
                .findFirst().orElseThrow(() -> new AssertionError("no f32 twin of " + c));
        int promptRows = c.prompt().length;
        float[] ours = Runs.teacherForced(Fixtures.file(c.model()), false, c.teacherTokens(), promptRows);
        float[] ref = c.referenceLogits();
        float[] refF32 = f32.referenceLogits();
        int n = promptRows * c.vocab();
        double ourErr = rms(ours, ref, n);
        double llamaErr = rms(ref, refF32, n);
        assertThat(ourErr).as("%s: RMS vs llama.cpp q8_0 = %.5f, llama.cpp q8_0 vs f32 = %.5f", c, ourErr, llamaErr)
                .isLessThanOrEqualTo(1.5 * llamaErr);
    }

    static Stream<RefCase> q4Cases() {
        return Fixtures.refCases("refs/index-q4.json").stream().filter(c -> c.kvCache().equals("f32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("q4Cases")
    void shouldStayWithinLlamaCppQuantizationErrorWhenQ4WeightsAreHeldAsQ4(RefCase c) throws Exception {
        assertThat(c.weights()).isEqualTo("q4_0");
        RefCase f32 = Fixtures.refCases().stream()
                .filter(o -> o.kvCache().equals("f32") && o.weights().equals("f32") && o.arch().equals(c.arch())
                        && o.promptName().equals(c.promptName()))
                .findFirst().orElseThrow(() -> new AssertionError("no f32 twin of " + c));
        int promptRows = c.prompt().length;
        float[] ours = Runs.teacherForced(Fixtures.file(c.model()), LoadOptions.defaults(), c.teacherTokens(), promptRows);
        float[] ref = c.referenceLogits();
        int n = promptRows * c.vocab();
        double ourErr = rms(ours, ref, n);
        double llamaErr = rms(ref, f32.referenceLogits(), n);
        assertThat(ourErr).as("%s: RMS vs llama.cpp q4_0 = %.5f, llama.cpp q4_0 vs f32 = %.5f", c, ourErr, llamaErr)
                .isLessThanOrEqualTo(1.5 * llamaErr + 0.005);
    }

    static double rms(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s / n);
    }

    static List<String> archs() {
        return List.copyOf(ARCHS);
    }
}
