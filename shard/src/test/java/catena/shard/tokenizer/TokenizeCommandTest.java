package catena.shard.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code catena-shard tokenize} prints the ids as one JSON line, with llama-tokenize's flags. */
class TokenizeCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void printsIdsAsJson() {
        String model = TokenizerFixtures.model("tiny-gemma3-f32.gguf").toString();
        assertThat(Main.run("tokenize", "--model", model, "--text", "Hello world")).isEqualTo(0);
        assertThat(Main.run("tokenize", "--model", model, "--text", "Hello world", "--no-bos")).isEqualTo(0);
        assertThat(Main.run("tokenize", "--model", model, "--text", "<end_of_turn>", "--no-bos",
                "--no-parse-special")).isEqualTo(0);
        assertThat(out.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "[2, 873, 360, 896, 271, 327, 326]",
                "[873, 360, 896, 271, 327, 326]",
                "[69, 337, 104, 896, 887, 104, 654, 71]");
    }

    @Test
    void missingModelIsBadInput() {
        assertThat(Main.run("tokenize", "--model", "/nonexistent/model.gguf", "--text", "x")).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no such file").contains("/nonexistent/model.gguf");
    }
}
