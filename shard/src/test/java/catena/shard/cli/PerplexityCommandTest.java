package catena.shard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import catena.shard.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code perplexity} on stories260K against llama-perplexity's values, read from the fixture's README
 * table ({@code | stories260K-f32 | 16 | 5.6596 | 0.35206 |}): within 0.5%, with the same chunk count.
 */
class PerplexityCommandTest {
    private static final Pattern ROW = Pattern.compile(
            "^\\|\\s*(stories260K-[\\w.]+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*([0-9.]+)\\s*\\|\\s*([0-9.]+)\\s*\\|\\s*$",
            Pattern.MULTILINE);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** llama.cpp's PPL, ± and chunk count for one model, from perplexity/README.md. */
    record Reference(int chunks, double ppl, double error) {
        static Reference of(String model) throws Exception {
            String readme = Files.readString(Fixtures.file("perplexity/README.md"));
            Matcher m = ROW.matcher(readme);
            while (m.find()) {
                if (m.group(1).equals(model)) {
                    return new Reference(Integer.parseInt(m.group(2)), Double.parseDouble(m.group(3)),
                            Double.parseDouble(m.group(4)));
                }
            }
            return fail("perplexity/README.md has no table row for " + model);
        }
    }

    private static JsonNode lastJsonLine(CliRun r) throws Exception {
        String[] lines = r.out().strip().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    private static String text() {
        return Fixtures.file("perplexity/stories-a.txt").toString();
    }

    private void assertMatchesLlamaCpp(String model, String... extra) throws Exception {
        Reference ref = Reference.of(model);
        String[] args = {"perplexity", "--model", Fixtures.file("stories/" + model + ".gguf").toString(),
                "--file", text(), "--ctx", "128", "--json"};
        String[] all = new String[args.length + extra.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        CliRun r = CliRun.of(all);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).as("progress on stderr").contains("[1]").contains("[" + ref.chunks() + "]");
        JsonNode j = lastJsonLine(r);
        assertThat(j.get("chunks").asInt()).isEqualTo(ref.chunks());
        assertThat(j.get("ctx").asInt()).isEqualTo(128);
        double ppl = j.get("ppl").asDouble();
        assertThat(Math.abs(ppl / ref.ppl() - 1)).as("PPL %s vs llama.cpp %s", ppl, ref.ppl()).isLessThanOrEqualTo(0.005);
        double err = j.get("ppl_error").asDouble();
        assertThat(Math.abs(err / ref.error() - 1)).as("± %s vs llama.cpp %s", err, ref.error()).isLessThanOrEqualTo(0.005);
        assertThat(r.out()).containsPattern("Final estimate: PPL = \\d+\\.\\d{4} \\+/- \\d+\\.\\d{5}");
    }

    @Test
    void shouldMatchLlamaCppWhenF32WeightsAreKept() throws Exception {
        assertMatchesLlamaCpp("stories260K-f32", "--keep-f32");
    }

    @Test
    void shouldMatchLlamaCppWhenQ8Weights() throws Exception {
        assertMatchesLlamaCpp("stories260K-q8_0");
    }

    @Test
    void shouldGiveZeroKlWhenTheModelIsItsOwnBase() throws Exception {
        String model = Fixtures.file("stories/stories260K-f32.gguf").toString();
        Path base = tmp.resolve("f32.lp");
        CliRun save = CliRun.of("perplexity", "--model", model, "--keep-f32", "--file", text(), "--ctx", "128",
                "--chunks", "4", "--save-logits", base.toString(), "--json");
        assertThat(save.code()).as(save.err()).isZero();
        CliRun self = CliRun.of("perplexity", "--model", model, "--keep-f32", "--kl-base", base.toString(), "--json");
        assertThat(self.code()).as(self.err()).isZero();
        JsonNode j = lastJsonLine(self);
        assertThat(j.get("kld_mean").asDouble()).isLessThan(1e-6);
        assertThat(j.get("same_top").asDouble()).isEqualTo(1.0);
        assertThat(j.get("ppl").asDouble()).isCloseTo(lastJsonLine(save).get("ppl").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(j.get("chunks").asInt()).isEqualTo(4);
        assertThat(self.out()).contains("Mean    KLD:").contains("Same top p:");

        CliRun q8 = CliRun.of("perplexity", "--model", Fixtures.file("stories/stories260K-q8_0.gguf").toString(),
                "--kl-base", base.toString(), "--json");
        assertThat(q8.code()).as(q8.err()).isZero();
        JsonNode k = lastJsonLine(q8);
        assertThat(k.get("kld_mean").asDouble()).as("Q8_0 weights differ from F32").isGreaterThan(1e-7);
        assertThat(k.get("ppl_base").asDouble()).isCloseTo(j.get("ppl").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void shouldExitTwoWhenInputIsBad() throws Exception {
        String model = Fixtures.file("stories/stories260K-q8_0.gguf").toString();
        CliRun tooLong = CliRun.of("perplexity", "--model", model, "--file", text(), "--ctx", "256");
        assertThat(tooLong.code()).isEqualTo(2);
        assertThat(tooLong.err()).contains("--ctx=256").contains("context_length=128");
        Path shortText = tmp.resolve("short.txt");
        Files.writeString(shortText, "Once upon a time.\n");
        CliRun tooShort = CliRun.of("perplexity", "--model", model, "--file", shortText.toString(), "--ctx", "128");
        assertThat(tooShort.code()).isEqualTo(2);
        assertThat(tooShort.err()).contains("text too short");
        Path junk = tmp.resolve("junk.lp");
        Files.writeString(junk, "this is not a base run, only some words of text");
        CliRun badBase = CliRun.of("perplexity", "--model", model, "--kl-base", junk.toString());
        assertThat(badBase.code()).isEqualTo(2);
        assertThat(badBase.err()).contains("magic");
    }

    @Test
    void shouldPrintTheOutputFormatWhenHelpIsAsked() {
        CliRun r = CliRun.of("perplexity", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Final estimate: PPL = %.4f +/- %.5f").contains("--kl-base");
        assertThat(r.err()).doesNotContain("WARN");
    }
}
