package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.Fixtures.RefCase;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * f16 and q8_0 caches against llama.cpp run with the same cache type (refs/index.json's f16
 * cases, flash attention off; refs/index-kv.json's q8_0 cases, flash attention on), by the
 * fixtures' rule: over the prompt rows, RMS(engine - ref) <= 1.5 x RMS(ref - baseline) + 0.005,
 * the baseline being llama.cpp's F32-weight, F32-KV run of the prompt with the same flash-attention
 * setting. A few tiny cases; ../shared/tools/check_refs2.py runs them all through the CLI.
 */
class KvReferenceTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                // q8_0: no rotation (head 32), the Hadamard rotation (head 64, one cache / two caches), mixed heads
                Arguments.of("index-kv.json", "tiny-llama-f32.gguf", "text", KvType.Q8_0),
                Arguments.of("index-kv.json", "tiny-gemma-f32.gguf", "chat", KvType.Q8_0),
                Arguments.of("index-kv.json", "tiny-gemma3-f32.gguf", "rand40", KvType.Q8_0),
                Arguments.of("index-kv.json", "tiny-gemma4-ple-f32.gguf", "chat", KvType.Q8_0),
                Arguments.of("index-kv.json", "tiny-gemma3-q8_0.gguf", "chat", KvType.Q8_0),
                Arguments.of("index.json", "tiny-gemma3-f32.gguf", "chat", KvType.F16),
                Arguments.of("index.json", "tiny-gemma2-f32.gguf", "rand40", KvType.F16),
                Arguments.of("index.json", "stories260K-f32.gguf", "once", KvType.F16));
    }

    private static String stem(String model) {
        return Path.of(model).getFileName().toString().replace("-q8_0", "").replace("-f32", "");
    }

    private static RefCase find(List<RefCase> all, String model, String prompt, String weights, String kv) {
        return all.stream().filter(c -> stem(c.model()).equals(stem(model)) && c.promptName().equals(prompt)
                && c.weights().equals(weights) && c.kvCache().equals(kv)).findFirst().orElseThrow();
    }

    @ParameterizedTest(name = "{1} {2} kv={3}")
    @MethodSource("cases")
    void shouldHoldTheFixturesRuleAgainstLlamaCppWithTheSameCacheType(String index, String model, String prompt,
                                                                       KvType type) throws Exception {
        List<RefCase> all = Fixtures.refCases("refs/" + index);
        String weights = model.contains("q8_0") ? "q8_0" : "f32";
        RefCase ref = find(all, model, prompt, weights, type.flag());
        RefCase base = find(all, model, prompt, "f32", "f32");
        int[] tokens = ref.teacherTokens();
        int k = ref.prompt().length;
        float[] got = Runs.teacherForced(Fixtures.file(ref.model().replaceFirst("^out/", "")),
                LoadOptions.keepF32(weights.equals("f32")).kvType(type), tokens, k);
        float[] want = ref.referenceLogits();
        float[] baseline = base.referenceLogits();
        int n = k * ref.vocab();
        double engine = 0;
        double noise = 0;
        for (int i = 0; i < n; i++) {
            engine += Math.pow(got[i] - want[i], 2);
            noise += Math.pow(want[i] - baseline[i], 2);
        }
        double rms = Math.sqrt(engine / n);
        double limit = 1.5 * Math.sqrt(noise / n) + 0.005;
        assertThat(rms).as("%s %s kv=%s: rms %.4f, limit %.4f", model, prompt, type, rms, limit).isLessThanOrEqualTo(limit);
    }
}
