package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import catena.shard.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * After load the weights live in the repacked copies only: the GGUF's pages touched while copying
 * are released from the process (else its RSS counts the model twice), and the model still runs.
 */
class LoadMemoryTest {
    /** Resident kB of this process's mappings of {@code file}, from /proc/self/smaps. */
    private static long residentKb(Path file) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        String name = file.toRealPath().toString();
        long kb = 0;
        boolean in = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.endsWith(name);
            } else if (in && line.startsWith("Rss:")) {
                kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kb;
    }

    @Test
    void fileMappingHoldsNoResidentPagesOnceLoaded() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs Linux /proc");
        Path file = Fixtures.file("tiny/tiny-gemma3-q8_0.gguf");
        long size = Files.size(file);
        try (Model m = Model.load(file, LoadOptions.defaults())) {
            assertThat(residentKb(file) * 1024).as("resident bytes of the %d-byte file's mapping", size)
                    .isLessThan(size / 10);
            // still computes: one token through the whole model gives finite logits
            KvCache cache = m.newCache();
            float[] x = new float[m.config().dim()];
            m.embed(new int[] {2}, 0, 1, x);
            m.forward(new Batch().add(cache, new int[] {2}, 0, 1), x);
            float[] logits = new float[m.config().vocabSize()];
            m.logits(x, 0, logits);
            for (float v : logits) {
                assertThat(v).isFinite();
            }
            assertThat(logits).isNotEqualTo(new float[logits.length]);
        }
    }
}
