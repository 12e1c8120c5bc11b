package catena.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import catena.worker.prefix.BlockHash;
import catena.worker.prefix.PrefixChain;
import org.junit.jupiter.api.Test;

class PrefixMirrorTest {
    private static BlockHash[] chain(int first, int blocks) {
        int[] t = new int[blocks * 16];
        for (int i = 0; i < t.length; i++) {
            t[i] = first + i;
        }
        return PrefixChain.of(t, t.length, 16);
    }

    @Test
    void shouldCountTheLeadingBlocksSentToAReplicaAndNoneElsewhere() {
        PrefixMirror m = new PrefixMirror();
        BlockHash[] a = chain(0, 4);
        m.sent(0, 1, a);
        assertThat(m.cachedBlocks(0, 1, a)).isEqualTo(4);
        assertThat(m.cachedBlocks(1, 1, a)).isZero();
        BlockHash[] longer = chain(0, 6);
        assertThat(m.cachedBlocks(0, 1, longer)).isEqualTo(4);
        assertThat(m.cachedBlocks(0, 1, chain(5, 4))).isZero();
    }

    @Test
    void shouldForgetTheLeastRecentlySentChainsEndFirstWhenOverCapacity() {
        PrefixMirror m = new PrefixMirror();
        m.capacity(0, 1, 5);
        BlockHash[] a = chain(0, 3);
        BlockHash[] b = chain(1000, 3);
        m.sent(0, 1, a);
        m.sent(0, 1, b);
        assertThat(m.size(0)).isEqualTo(5);
        assertThat(m.cachedBlocks(0, 1, b)).isEqualTo(3);
        assertThat(m.cachedBlocks(0, 1, a)).isEqualTo(2);
    }

    @Test
    void shouldForgetAReplicaWhenItsEpochChanges() {
        PrefixMirror m = new PrefixMirror();
        BlockHash[] a = chain(0, 2);
        m.sent(0, 1, a);
        assertThat(m.cachedBlocks(0, 2, a)).isZero();
        m.sent(0, 2, chain(50, 1));
        assertThat(m.cachedBlocks(0, 2, a)).isZero();
        assertThat(m.size(0)).isEqualTo(1);
    }
}
