package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code catena serve --http-port}: out-of-range values are refused before anything starts. */
class ServeCommandHttpPortTest {

    @Test
    void shouldRefuseAnHttpPortBelowMinusOne() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("serve", "--http-port", "-2");
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(Main.EXIT_BAD_INPUT);
        assertThat(err.toString(StandardCharsets.UTF_8).strip())
                .isEqualTo("catena: --http-port=-2, expected 0..65535 or -1 (off)");
    }
}
