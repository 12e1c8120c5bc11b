package catena.shard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's contract: outputs in the documented formats, exit 2 with one line for bad input. */
class CliTest {
    @TempDir
    Path tmp;

    @Test
    void logitsWritesRowsOfVocabFloats() throws Exception {
        Path out = tmp.resolve("l.f32");
        String model = Fixtures.file("stories/stories260K-f32.gguf").toString();
        CliRun r = CliRun.of("logits", "--model", model, "--ids", "1,403,407", "--out", out.toString(), "--keep-f32");
        assertThat(r.code()).as(r.err()).isZero();
        byte[] bytes = Files.readAllBytes(out);
        assertThat(bytes).hasSize(3 * 512 * 4);
        float[] row2 = new float[512];
        ByteBuffer.wrap(bytes, 2 * 512 * 4, 512 * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(row2);
        int best = 0;
        for (int i = 1; i < 512; i++) {
            best = row2[i] > row2[best] ? i : best;
        }
        assertThat(best).as("'Once upon' is followed by ' a'").isEqualTo(261);
    }

    @Test
    void badInputExitsTwoWithOneLine() {
        String model = Fixtures.file("stories/stories260K-q8_0.gguf").toString();
        CliRun outside = CliRun.of("logits", "--model", model, "--ids", "1,9999", "--out", tmp.resolve("x").toString());
        assertThat(outside.code()).isEqualTo(2);
        assertThat(outside.err().strip()).contains("outside the vocabulary").doesNotContain("\n");
        CliRun notIds = CliRun.of("logits", "--model", model, "--ids", "1,x", "--out", tmp.resolve("x").toString());
        assertThat(notIds.code()).isEqualTo(2);
        CliRun missing = CliRun.of("generate", "--model", tmp.resolve("nope.gguf").toString(), "--prompt", "hi");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.gguf");
        CliRun nan = CliRun.of("generate", "--model", model, "--prompt", "hi", "--temperature", "NaN");
        assertThat(nan.code()).isEqualTo(2);
        assertThat(nan.err()).contains("temperature");
    }

    @Test
    void notAGgufExitsTwo() throws Exception {
        Path junk = tmp.resolve("junk.gguf");
        Files.writeString(junk, "this is not a model");
        CliRun r = CliRun.of("generate", "--model", junk.toString(), "--prompt", "hi");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("junk.gguf");
    }

    @Test
    void generateJsonEndsWithTheDocumentedLine() {
        String model = Fixtures.file("stories/stories260K-q8_0.gguf").toString();
        CliRun r = CliRun.of("generate", "--model", model, "--prompt", "Once upon a time", "--temperature", "0",
                "--max-tokens", "8", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        String last = lines[lines.length - 1];
        assertThat(last).startsWith("{\"prompt_ids\":[1,403,407,261,378],\"tokens\":[432,383,286,261,376,298,315,421],"
                + "\"text\":\", there was a little girl");
        assertThat(r.out()).startsWith(", there was a little girl");
    }
}
