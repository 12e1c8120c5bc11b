package catena.gateway.app;

import catena.shard.gguf.GgmlType;
import catena.shard.synth.Presets;
import catena.shard.synth.Synth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The built-in demo model (random weights: its text is nonsense), written once to a cache file. */
final class DemoModel {
    static final String PRESET = "demo-tiny";
    private static final long SEED = 42;

    private DemoModel() {
    }

    /** The cached demo GGUF, written on first use under $XDG_CACHE_HOME (or ~/.cache)/catena. */
    static Path ensure() throws IOException {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path dir = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("catena");
        Path file = dir.resolve(PRESET + "-q8_0.gguf");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(dir);
            // Written beside, then moved: a crash never leaves a half-written model in the cache.
            Path tmp = Files.createTempFile(dir, PRESET, ".part");
            try {
                Synth.write(Presets.get(PRESET), GgmlType.Q8_0, tmp, SEED, 0);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        return file;
    }
}
