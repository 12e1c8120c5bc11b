package catena.shard.model;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The byte budget {@code --kv-memory auto} gives a stage's KV pool: what the process's memory
 * limit leaves after the weights and a margin. The limit is the container's cgroup limit when
 * there is one (v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}), else physical memory.
 * The margin: the JVM heap ({@code -Xmx}: activations, sessions, the tokenizer live there), plus
 * {@link #RESERVE} for what the JVM holds outside the heap (metaspace, code cache, thread stacks,
 * GC structures, direct buffers of gRPC and Pekko). Stages sharing one process (embedded mode)
 * split what is left evenly.
 */
public final class KvMemory {
    /** {@code --kv-memory auto}. */
    public static final long AUTO = -1;
    /** Non-heap JVM memory kept out of the KV budget. */
    public static final long RESERVE = 384L << 20;
    /** The smallest budget auto hands out (a few blocks, so a tiny machine still serves short prompts). */
    public static final long MINIMUM = 16L << 20;
    /** cgroup v1 reports "no limit" as a huge page-aligned number. */
    private static final long V1_UNLIMITED = Long.MAX_VALUE / 2;

    private KvMemory() {
    }

    /**
     * The KV budget of one of {@code share} stages in this process whose weights take
     * {@code weightBytes}: {@code (limit - heapMax - RESERVE) / share - weightBytes}, at least
     * {@link #MINIMUM}.
     */
    public static long auto(long limitBytes, long heapMaxBytes, long weightBytes, int share) {
        long left = (limitBytes - heapMaxBytes - RESERVE) / Math.max(1, share) - weightBytes;
        return Math.max(MINIMUM, left);
    }

    /** {@link #auto(long, long, long, int)} for this process: its limit and its -Xmx. */
    public static long auto(long weightBytes, int share) {
        return auto(limitBytes(Path.of("/sys/fs/cgroup"), physicalBytes()), Runtime.getRuntime().maxMemory(),
                weightBytes, share);
    }

    /**
     * The memory limit: cgroup v2 {@code memory.max} under {@code cgroupRoot}, else cgroup v1
     * {@code memory/memory.limit_in_bytes}, else {@code physical} (also when the limit says
     * unlimited or exceeds physical memory).
     */
    static long limitBytes(Path cgroupRoot, long physical) {
        long limit = read(cgroupRoot.resolve("memory.max"));
        if (limit < 0) {
            limit = read(cgroupRoot.resolve("memory").resolve("memory.limit_in_bytes"));
            if (limit >= V1_UNLIMITED) {
                limit = -1;
            }
        }
        return limit > 0 && limit < physical ? limit : physical;
    }

    private static long read(Path file) {
        try {
            String s = Files.readString(file).trim();
            return s.equals("max") ? -1 : Long.parseLong(s);
        } catch (IOException | RuntimeException e) {
            return -1; // no such controller here
        }
    }

    /** Physical memory of the machine. */
    static long physicalBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory() * 2;
    }
}
