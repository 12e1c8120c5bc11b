package catena.shard.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.shard.Fixtures;
import catena.shard.Fixtures.RefCase;
import catena.shard.gguf.GgufFile;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** stories260K, a real pretrained model, tells llama.cpp's story greedily, token for token. */
class GeneratorTest {

    static Stream<RefCase> storyCases() {
        return Fixtures.refCases().stream().filter(c -> c.arch().equals("stories") && c.kvCache().equals("f32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("storyCases")
    void storiesFollowsLlamaCppGreedily(RefCase c) throws Exception {
        Path file = Fixtures.file(c.model());
        try (Model m = Model.load(file, LoadOptions.keepF32(c.weights().equals("f32")));
             GgufFile f = GgufFile.open(file)) {
            Generator g = new Generator(m, Tokenizer.fromGguf(f.metadata()));
            StringBuilder streamed = new StringBuilder();
            Generator.Result r = g.generate(c.prompt(), SamplingParams.GREEDY, c.generated().length,
                    (id, piece) -> streamed.append(piece));
            assertThat(r.tokens()).containsExactly(c.generated());
            assertThat(streamed.toString()).isEqualTo(r.text());
            if (c.promptName().equals("once")) {
                assertThat(r.text()).startsWith(", there was a little girl named Lily. She loved to play outside");
            }
        }
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        try (Model m = Model.load(file, LoadOptions.defaults()); GgufFile f = GgufFile.open(file)) {
            Generator g = new Generator(m, Tokenizer.fromGguf(f.metadata()));
            int[] prompt = {1, 403, 407, 261, 378};
            SamplingParams p = new SamplingParams(1.0f, 40, 0.95f, 0.0f, 1.1f, 64, 42);
            int[] a = g.generate(prompt, p, 40, null).tokens();
            int[] b = g.generate(prompt, p, 40, null).tokens();
            int[] c = g.generate(prompt, new SamplingParams(1.0f, 40, 0.95f, 0.0f, 1.1f, 64, 43), 40, null).tokens();
            assertThat(a).isEqualTo(b);
            assertThat(a).isNotEqualTo(c);
        }
    }

    @Test
    void badPromptsAreRefusedWithAReason() throws Exception {
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        try (Model m = Model.load(file, LoadOptions.defaults()); GgufFile f = GgufFile.open(file)) {
            Generator g = new Generator(m, Tokenizer.fromGguf(f.metadata()));
            assertThatThrownBy(() -> g.generate(new int[0], SamplingParams.GREEDY, 4, null))
                    .hasMessageContaining("empty");
            assertThatThrownBy(() -> g.generate(new int[] {1, 512}, SamplingParams.GREEDY, 4, null))
                    .hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> g.generate(new int[200], SamplingParams.GREEDY, 4, null))
                    .hasMessageContaining("context");
        }
    }
}
