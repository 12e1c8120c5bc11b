package catena.it.runc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Commands on this machine (ip, runc, umoci), each awaited; a failure carries the command's output. */
final class Host {
    private Host() {
    }

    /** Runs {@code command}; its combined output, or an exception with it when the exit code is not 0. */
    static String run(String... command) {
        Result r = attempt(command);
        if (r.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + r.exit() + ": " + r.output());
        }
        return r.output();
    }

    /** Runs {@code command} and returns its exit code and output, whatever they are. */
    static Result attempt(String... command) {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out + " (timed out after 120 s)");
            }
            return new Result(p.exitValue(), out.strip());
        } catch (IOException e) {
            return new Result(-1, "cannot start " + command[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    record Result(int exit, String output) {
    }
}
