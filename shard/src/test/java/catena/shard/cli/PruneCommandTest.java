package catena.shard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruneCommandTest {
    @TempDir
    Path tmp;

    private static String model() {
        return Fixtures.file("stories/stories260K-f32.gguf").toString();
    }

    @Test
    void shouldWriteAModelThatPerplexityLoadsWhenPruningWithRepair() throws Exception {
        Path out = tmp.resolve("p.gguf");
        CliRun r = CliRun.of("prune", model(), out.toString(), "--calibration",
                Fixtures.file("perplexity/stories-a.txt").toString(), "--ffn", "0.25", "--repair", "--sample", "256");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("256 sampled from the model").contains("ffn_err(slice -> refit)")
                .contains("wrote " + out);
        assertThat(Files.size(out)).isPositive();
        CliRun p = CliRun.of("perplexity", "-m", out.toString(), "--keep-f32", "-f",
                Fixtures.file("perplexity/stories-a.txt").toString(), "-c", "128", "--chunks", "2");
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(p.out()).contains("Final estimate: PPL = ");
    }

    @Test
    void shouldNameTheOptionWhenTheRatioIsOutOfRange() {
        CliRun r = CliRun.of("prune", model(), tmp.resolve("x.gguf").toString(), "--calibration",
                Fixtures.file("perplexity/stories-a.txt").toString(), "--ffn", "1.5");
        assertThat(r.code()).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(r.err()).contains("--ffn=1.5, expected within [0, 1)");
    }

    @Test
    void shouldNameTheOptionWhenTheImportanceIsUnknown() {
        CliRun r = CliRun.of("prune", model(), tmp.resolve("x.gguf").toString(), "--calibration",
                Fixtures.file("perplexity/stories-a.txt").toString(), "--ffn", "0.25", "--importance", "magic");
        assertThat(r.code()).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(r.err()).contains("--importance=magic, expected auto, activation, rms, weight or obs");
    }

    @Test
    void shouldRepairFromTheTeacherWhenTheModelHasAPostFfnNorm() throws Exception {
        Path out = tmp.resolve("g3.gguf");
        CliRun r = CliRun.of("prune", Fixtures.file("tiny/tiny-gemma3-f32.gguf").toString(), out.toString(),
                "--calibration", Fixtures.file("perplexity/stories-a.txt").toString(), "--ffn", "0.25", "--repair",
                "--multiple", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("repair: from the teacher (blk.0.post_ffw_norm.weight").contains("wrote " + out);
    }

    @Test
    void shouldNameTheTensorWhenStudentRepairIsAskedOfAModelWithAPostFfnNorm() {
        CliRun r = CliRun.of("prune", Fixtures.file("tiny/tiny-gemma3-f32.gguf").toString(),
                tmp.resolve("x.gguf").toString(), "--calibration", Fixtures.file("perplexity/stories-a.txt").toString(),
                "--ffn", "0.25", "--repair", "--repair-from", "student", "--multiple", "1");
        assertThat(r.code()).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(r.err()).contains("--repair-from=student: blk.0.post_ffw_norm.weight makes the layer output"
                + " non-linear in ffn_down");
    }
}
