package catena.shard.cli;

import catena.shard.gguf.GgufFormatException;
import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** One line on stderr per failure; bad input exits 2, everything else 1 (with the stack trace behind CATENA_DEBUG). */
final class ErrorHandler implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult parsed) {
        if (isBadInput(e)) {
            cl.getErr().println("catena-shard: " + message(e));
            return Main.EXIT_BAD_INPUT;
        }
        cl.getErr().println("catena-shard: error: " + message(e));
        if (System.getenv("CATENA_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        return 1;
    }

    static boolean isBadInput(Throwable e) {
        return e instanceof BadInputException || e instanceof GgufFormatException
                || e instanceof NoSuchFileException || e instanceof FileNotFoundException
                || e instanceof IllegalArgumentException;
    }

    private static String message(Throwable e) {
        if (e instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
