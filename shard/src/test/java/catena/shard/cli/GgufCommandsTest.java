package catena.shard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.Fixtures;
import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** inspect, quantize and synth as a user runs them. */
class GgufCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void inspectShowsHyperParametersTokenizerAndTensors() {
        CliRun r = CliRun.of("inspect", Fixtures.file("tiny/tiny-gemma3-q8_0.gguf").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("architecture: gemma3")
                .contains("name: tiny-gemma3")
                .contains("file type: 7 (mostly Q8_0)")
                .contains("  attention.head_count_kv = 1")
                .contains("  attention.sliding_window = 24")
                .contains("  rope.freq_base = 1000000.0")
                .contains("  model: llama")
                .contains("  vocabulary: 1024 tokens")
                .contains("  bos: 2 '<bos>'")
                .contains("  eot: 6 '<end_of_turn>'")
                .containsPattern("token_type = \\[1024 x INT32\\] \\[3, 3, 3, 2, 3, 3, \\.\\.\\.\\]")
                .containsPattern("  token_embd\\.weight +Q8_0 +\\[128, 1024\\] +139,264")
                .containsPattern("  blk\\.3\\.attn_q_norm\\.weight +F32 +\\[64\\] +256")
                .contains("totals: 54 tensors");
        // Arrays are abbreviated: the 1024 token strings are not listed.
        assertThat(r.out()).doesNotContain("<0x41>");
        assertThat(r.out().lines().count()).isLessThan(120);
    }

    @Test
    void inspectOfABadFileExitsTwoWithTheOffset() throws Exception {
        Path junk = tmp.resolve("junk.gguf");
        Files.writeString(junk, "GGUF\u0007\0\0\0 and then nothing useful");
        CliRun r = CliRun.of("inspect", junk.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).contains("junk.gguf").contains("unsupported GGUF version=7")
                .contains("at byte offset 4").doesNotContain("\n");
        assertThat(CliRun.of("inspect", tmp.resolve("none.gguf").toString()).code()).isEqualTo(2);
    }

    @Test
    void quantizeWritesLlamaQuantizesFileAndReportsBadInput() throws Exception {
        Path out = tmp.resolve("s-q8.gguf");
        CliRun r = CliRun.of("quantize", Fixtures.file("stories/stories260K-f32.gguf").toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out);
        assertThat(Files.mismatch(out, Fixtures.file("stories/stories260K-q8_0.gguf"))).isEqualTo(-1L);
        CliRun badType = CliRun.of("quantize", "--type", "q4_k", Fixtures.file("stories/stories260K-f32.gguf").toString(),
                tmp.resolve("x.gguf").toString());
        assertThat(badType.code()).isEqualTo(2);
        assertThat(badType.err()).contains("--type q4_k: must be q8_0 or q4_0");
        Path out4 = tmp.resolve("g3-q4.gguf");
        CliRun q4 = CliRun.of("quantize", "--type", "q4_0", Fixtures.file("tiny/tiny-gemma3-f32.gguf").toString(), out4.toString());
        assertThat(q4.code()).as(q4.err()).isZero();
        assertThat(Files.mismatch(out4, Fixtures.file("tiny/tiny-gemma3-q4_0.gguf"))).isEqualTo(-1L);
        CliRun badHead = CliRun.of("quantize", "--type", "q4_0", "--output-tensor-type", "q6_k",
                Fixtures.file("tiny/tiny-gemma3-f32.gguf").toString(), tmp.resolve("y.gguf").toString());
        assertThat(badHead.code()).isEqualTo(2);
        assertThat(badHead.err()).contains("--output-tensor-type q6_k: must be q8_0 or q4_0, f16 or f32");
        CliRun missing = CliRun.of("quantize", tmp.resolve("nope.gguf").toString(), tmp.resolve("x.gguf").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.gguf");
    }

    @Test
    void synthWritesAModelThatInspectReads() throws Exception {
        Path out = tmp.resolve("demo.gguf");
        CliRun r = CliRun.of("synth", "--arch", "gemma3", "--preset", "demo-tiny", "--type", "f32", "--out", out.toString(),
                "--seed", "5", "--layers", "2");
        assertThat(r.code()).as(r.err()).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata().getLong("gemma3.block_count")).isEqualTo(2);
            assertThat(f.tensor("blk.1.ffn_up.weight").type()).isEqualTo(GgmlType.F32);
        }
        CliRun i = CliRun.of("inspect", out.toString());
        assertThat(i.code()).isZero();
        assertThat(i.out()).contains("architecture: gemma3").contains("  block_count = 2");
        CliRun bad = CliRun.of("synth", "--arch", "gemma3", "--preset", "gemma9", "--out", tmp.resolve("x.gguf").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown preset 'gemma9'");
    }
}
