package catena.it.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A memory cgroup of this machine made for one test, as a container's limit (cgroup v2 when the
 * unified hierarchy has the memory controller, else v1's memory hierarchy). Processes enter it
 * through {@link #wrapper()}: a shell that writes its own pid into the group, then execs the
 * command, so every byte the process ever touches is charged to the group. Needs root.
 */
final class MemoryCgroup implements AutoCloseable {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");

    private final Path dir;
    private final boolean v2;

    private MemoryCgroup(Path dir, boolean v2) {
        this.dir = dir;
        this.v2 = v2;
    }

    /** Makes group {@code name} limited to {@code limitBytes} (swap too, where the kernel accounts it). */
    static MemoryCgroup create(String name, long limitBytes) throws IOException {
        boolean v2 = Files.exists(ROOT.resolve("cgroup.controllers"))
                && Files.readString(ROOT.resolve("cgroup.subtree_control")).contains("memory");
        Path dir = v2 ? ROOT.resolve(name) : ROOT.resolve("memory").resolve(name);
        Files.createDirectories(dir);
        MemoryCgroup g = new MemoryCgroup(dir, v2);
        if (v2) {
            Files.writeString(dir.resolve("memory.max"), Long.toString(limitBytes));
            Files.writeString(dir.resolve("memory.swap.max"), "0");
        } else {
            Files.writeString(dir.resolve("memory.limit_in_bytes"), Long.toString(limitBytes));
            Path memsw = dir.resolve("memory.memsw.limit_in_bytes");
            if (Files.exists(memsw)) {
                Files.writeString(memsw, Long.toString(limitBytes));
            }
        }
        return g;
    }

    /** Whether this machine lets the test make one (root, a memory controller mounted). */
    static boolean available() {
        return Files.isWritable(ROOT.resolve("memory")) || Files.isWritable(ROOT.resolve("cgroup.subtree_control"));
    }

    /** A command prefix that runs the rest of the command line inside this group. */
    List<String> wrapper() {
        return List.of("sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "sh");
    }

    /** The most memory the group has held (v1 max_usage_in_bytes, v2 memory.peak; -1 if the kernel has none). */
    long peakBytes() throws IOException {
        Path p = dir.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        return Files.exists(p) ? Long.parseLong(Files.readString(p).strip()) : -1;
    }

    /** Processes of the group the kernel's OOM killer killed (-1 if the kernel does not count them). */
    long oomKills() throws IOException {
        Path p = dir.resolve(v2 ? "memory.events" : "memory.oom_control");
        for (String line : Files.readAllLines(p)) {
            if (line.startsWith("oom_kill ")) {
                return Long.parseLong(line.substring("oom_kill ".length()).strip());
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(dir);
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
