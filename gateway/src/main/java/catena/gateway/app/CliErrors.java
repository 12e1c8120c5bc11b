package catena.gateway.app;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** One line on stderr per failure: bad input (and INVALID_ARGUMENT from the server) exits 2, the rest 1. */
final class CliErrors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult parsed) {
        if (e instanceof StatusRuntimeException s) {
            Status st = s.getStatus();
            cl.getErr().println("catena: " + st.getCode() + (st.getDescription() != null ? ": " + st.getDescription()
                    : st.getCause() != null ? ": " + st.getCause().getMessage() : ""));
            return st.getCode() == Status.Code.INVALID_ARGUMENT ? Main.EXIT_BAD_INPUT : 1;
        }
        if (e instanceof IllegalArgumentException || e instanceof NoSuchFileException
                || e instanceof catena.shard.gguf.GgufFormatException) {
            cl.getErr().println("catena: " + (e instanceof NoSuchFileException n ? "no such file: " + n.getFile()
                    : e.getMessage()));
            return Main.EXIT_BAD_INPUT;
        }
        cl.getErr().println("catena: error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        if (System.getenv("CATENA_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        return 1;
    }
}
