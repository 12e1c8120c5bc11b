package catena.gateway.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API keys of {@code --api-key-file}: one key per line, blank lines and lines starting with
 * {@code #} ignored. The file is looked at again at most once per {@link #RECHECK_NANOS} and
 * re-read when its modification time or size changed, so keys are added and revoked without a
 * restart. A file that becomes unreadable or empty keeps the last good keys (and says so in the
 * log) rather than locking every client out because of a half-written file.
 *
 * <p>Only SHA-256 digests of the keys are held, and a presented key is compared by its digest,
 * so the time a check takes says nothing about how much of a key was right.
 */
public final class ApiKeys {
    static final long RECHECK_NANOS = 1_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(ApiKeys.class);

    private final Path file;
    private volatile Set<String> digests;
    private volatile long checkedAt;
    private FileTime loadedTime;
    private long loadedSize;

    private ApiKeys(Path file) {
        this.file = file;
    }

    /** Reads {@code file} now; fails if it cannot be read or holds no key. */
    public static ApiKeys load(Path file) {
        ApiKeys keys = new ApiKeys(file);
        try {
            keys.reload();
        } catch (IOException e) {
            throw new IllegalArgumentException("--api-key-file=" + file + ": cannot read it (" + e.getMessage() + ")", e);
        }
        if (keys.digests.isEmpty()) {
            throw new IllegalArgumentException("--api-key-file=" + file + ": holds no key (one key per line expected)");
        }
        return keys;
    }

    /** Whether {@code key} is one of the file's keys as of the last (at most a second old) look. */
    public boolean accepts(String key) {
        if (key == null || key.isEmpty()) {
            return false;
        }
        refreshIfDue();
        return digests.contains(digest(key));
    }

    /**
     * The key of an {@code Authorization} header (or gRPC metadata) value {@code Bearer KEY}
     * (scheme case-insensitive); null when the value is absent or has another scheme.
     */
    public static String bearer(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return authorization.substring(7).strip();
    }

    /** How many keys are in force. */
    public int size() {
        refreshIfDue();
        return digests.size();
    }

    private void refreshIfDue() {
        long now = System.nanoTime();
        if (now - checkedAt < RECHECK_NANOS) {
            return;
        }
        synchronized (this) {
            if (now - checkedAt < RECHECK_NANOS) {
                return;
            }
            checkedAt = now;
            try {
                if (!Files.getLastModifiedTime(file).equals(loadedTime) || Files.size(file) != loadedSize) {
                    Set<String> before = digests;
                    reload();
                    if (digests.isEmpty()) {
                        LOG.warn("--api-key-file {} now holds no key; keeping the {} keys read before", file, before.size());
                        digests = before;
                    } else {
                        LOG.info("--api-key-file {} re-read: {} keys", file, digests.size());
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                LOG.warn("--api-key-file {} cannot be read now ({}); keeping the keys read before", file, e.getMessage());
            }
        }
    }

    private synchronized void reload() throws IOException {
        FileTime time = Files.getLastModifiedTime(file);
        long size = Files.size(file);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Set<String> d = new HashSet<>();
        for (String line : lines) {
            String k = line.strip();
            if (!k.isEmpty() && !k.startsWith("#")) {
                d.add(digest(k));
            }
        }
        digests = Set.copyOf(d);
        loadedTime = time;
        loadedSize = size;
        checkedAt = System.nanoTime();
    }

    private static String digest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
