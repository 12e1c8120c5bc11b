package catena.shard.cli;

import catena.shard.gguf.GgufFile;
import catena.shard.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tokenize}: the model's token ids for a text, as a JSON array on one line (llama-tokenize's flags). */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text as a JSON array (reads only the model's metadata).")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "GGUF model file")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "text to tokenize")
    String text;

    @Option(names = "--no-bos", description = "do not add BOS (nor EOS) even if the vocabulary asks for it")
    boolean noBos;

    @Option(names = "--no-parse-special",
            description = "treat text such as <start_of_turn> as plain text, not as its special token")
    boolean noParseSpecial;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(file.metadata());
        }
        int[] ids = tokenizer.encode(argumentText(), !noBos, !noParseSpecial);
        StringJoiner json = new StringJoiner(", ", "[", "]");
        for (int id : ids) {
            json.add(Integer.toString(id));
        }
        System.out.println(json);
        return 0;
    }

    /**
     * The --text value. The JVM decodes arguments with the locale's charset; under a non-UTF-8
     * locale (e.g. LANG unset) non-ASCII text arrives as '?', so on Linux the raw bytes are
     * re-read from /proc/self/cmdline and decoded as UTF-8.
     */
    private String argumentText() {
        String jnu = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (jnu.equalsIgnoreCase("UTF-8") || jnu.equalsIgnoreCase("UTF8")) {
            return text;
        }
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            List<String> args = new ArrayList<>();
            int from = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    args.add(new String(raw, from, i - from, StandardCharsets.UTF_8));
                    from = i + 1;
                }
            }
            String found = null;
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i).equals("--text") && i + 1 < args.size()) {
                    found = args.get(i + 1);
                } else if (args.get(i).startsWith("--text=")) {
                    found = args.get(i).substring("--text=".length());
                }
            }
            return found != null ? found : text;
        } catch (IOException | RuntimeException e) {
            return text;
        }
    }
}
