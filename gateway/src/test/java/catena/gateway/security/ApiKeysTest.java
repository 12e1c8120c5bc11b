package catena.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {
    @TempDir
    Path dir;

    @Test
    void shouldAcceptTheFilesKeysAndIgnoreCommentsAndBlankLines() throws Exception {
        Path f = Files.writeString(dir.resolve("keys"), "# team a\nalpha-key\n\n  beta-key  \n");
        ApiKeys keys = ApiKeys.load(f);
        assertThat(keys.size()).isEqualTo(2);
        assertThat(keys.accepts("alpha-key")).isTrue();
        assertThat(keys.accepts("beta-key")).isTrue();
        assertThat(keys.accepts("# team a")).isFalse();
        assertThat(keys.accepts("alpha")).isFalse();
        assertThat(keys.accepts("")).isFalse();
        assertThat(keys.accepts(null)).isFalse();
    }

    @Test
    void shouldTakeAddedAndRevokedKeysWithoutARestart() throws Exception {
        Path f = Files.writeString(dir.resolve("keys"), "old-key\n");
        ApiKeys keys = ApiKeys.load(f);
        Files.writeString(f, "new-key\n");
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(5)));
        await().atMost(Duration.ofSeconds(5)).until(() -> keys.accepts("new-key"));
        assertThat(keys.accepts("old-key")).isFalse();
    }

    @Test
    void shouldKeepTheLastKeysWhenTheFileIsEmptiedOrRemoved() throws Exception {
        Path f = Files.writeString(dir.resolve("keys"), "kept-key\n");
        ApiKeys keys = ApiKeys.load(f);
        Files.writeString(f, "");
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(5)));
        Thread.sleep(ApiKeys.RECHECK_NANOS / 1_000_000 + 100);
        assertThat(keys.accepts("kept-key")).isTrue();
        Files.delete(f);
        Thread.sleep(ApiKeys.RECHECK_NANOS / 1_000_000 + 100);
        assertThat(keys.accepts("kept-key")).isTrue();
    }

    @Test
    void shouldRefuseAMissingOrKeylessFileNamingTheOption() throws Exception {
        assertThatThrownBy(() -> ApiKeys.load(dir.resolve("absent")))
                .hasMessageContaining("--api-key-file=").hasMessageContaining("absent");
        Path empty = Files.writeString(dir.resolve("empty"), "# nothing\n\n");
        assertThatThrownBy(() -> ApiKeys.load(empty)).hasMessageContaining("holds no key");
    }
}
