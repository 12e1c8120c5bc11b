package catena.worker.prefix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrefixIndexTest {
    private static BlockHash[] chain(int first, int n) {
        int[] t = new int[n * 4];
        for (int i = 0; i < t.length; i++) {
            t[i] = first + i;
        }
        return PrefixChain.of(t, t.length, 4);
    }

    private static PrefixIndex<String> published(BlockHash[] c) {
        PrefixIndex<String> index = new PrefixIndex<>();
        for (int i = 0; i < c.length; i++) {
            assertThat(index.publish(c[i], "p" + i)).isTrue();
        }
        return index;
    }

    @Test
    void shouldMatchTheLeadingRunOfCachedBlocksWhenOneIsMissing() {
        BlockHash[] c = chain(0, 4);
        PrefixIndex<String> index = new PrefixIndex<>();
        index.publish(c[0], "a");
        index.publish(c[1], "b");
        index.publish(c[3], "d");
        assertThat(index.match(c, 10)).isEqualTo(2);
        assertThat(index.match(c, 1)).isEqualTo(1);
    }

    @Test
    void shouldCountReferencesAndMakeABlockIdleOnlyWhenTheLastIsReleased() {
        BlockHash[] c = chain(0, 2);
        PrefixIndex<String> index = published(c);
        assertThat(index.idle()).isZero();
        assertThat(index.acquire(c, 2)).containsExactly("p0", "p1");
        assertThat(index.refs(c[0])).isEqualTo(2);
        index.release(c[1]);
        index.release(c[0]);
        assertThat(index.idle()).isZero();
        index.release(c[1]);
        index.release(c[0]);
        assertThat(index.idle()).isEqualTo(2);
        assertThat(index.refs(c[0])).isZero();
    }

    @Test
    void shouldNeverEvictABlockInUse() {
        BlockHash[] c = chain(0, 2);
        PrefixIndex<String> index = published(c);
        index.release(c[1]);
        assertThat(index.evictOldest()).isEqualTo("p1");
        assertThat(index.evictOldest()).isNull();
        assertThat(index.contains(c[0])).isTrue();
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void shouldEvictTheLeastRecentlyReleasedBlockFirstAndKeepAChainsStartLongest() {
        BlockHash[] a = chain(0, 3);
        BlockHash[] b = chain(1000, 1);
        PrefixIndex<String> index = published(a);
        index.publish(b[0], "b0");
        for (int i = a.length - 1; i >= 0; i--) {
            index.release(a[i]);
        }
        index.release(b[0]);
        // a is reused: its blocks become the most recent again, b is now the oldest
        index.acquire(a, 3);
        for (int i = a.length - 1; i >= 0; i--) {
            index.release(a[i]);
        }
        assertThat(index.evictAll()).containsExactly("b0", "p2", "p1", "p0");
        assertThat(index.size()).isZero();
    }

    @Test
    void shouldAcquireNothingWhenAnyBlockIsMissing() {
        BlockHash[] c = chain(0, 3);
        PrefixIndex<String> index = new PrefixIndex<>();
        index.publish(c[0], "a");
        index.publish(c[2], "c");
        assertThat(index.acquire(c, 3)).isNull();
        assertThat(index.refs(c[0])).isEqualTo(1);
        assertThat(index.acquire(c, 1)).isEqualTo(List.of("a"));
    }

    @Test
    void shouldKeepTheFirstPayloadWhenABlockIsPublishedTwice() {
        BlockHash[] c = chain(0, 1);
        PrefixIndex<String> index = published(c);
        assertThat(index.publish(c[0], "again")).isFalse();
        assertThat(index.acquire(c, 1)).containsExactly("p0");
    }

    @Test
    void shouldRefuseToReleaseABlockNobodyHolds() {
        BlockHash[] c = chain(0, 1);
        PrefixIndex<String> index = published(c);
        index.release(c[0]);
        assertThatThrownBy(() -> index.release(c[0]))
                .hasMessage("release of block " + c[0] + ": refs=0, expected a block in use");
    }
}
