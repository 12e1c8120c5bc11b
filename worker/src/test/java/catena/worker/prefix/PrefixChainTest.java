package catena.worker.prefix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrefixChainTest {
    private static int[] tokens(long seed, int n) {
        Random rnd = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(262_144);
        }
        return t;
    }

    @Test
    void shouldNameTheSameTokensAlikeWhenChainedTwice() {
        int[] a = tokens(1, 100);
        assertThat(PrefixChain.of(a, 100, 16)).containsExactly(PrefixChain.of(a.clone(), 100, 16));
        assertThat(PrefixChain.of(a, 100, 16)).hasSize(6);
    }

    @Test
    void shouldDivergeFromTheBlockOfTheFirstDifferentTokenOnWhenOneTokenDiffers() {
        int[] a = tokens(2, 128);
        for (int changed : new int[] {0, 15, 16, 47, 127}) {
            int[] b = a.clone();
            b[changed] ^= 1;
            BlockHash[] ha = PrefixChain.of(a, 128, 16);
            BlockHash[] hb = PrefixChain.of(b, 128, 16);
            int firstDiff = changed / 16;
            for (int i = 0; i < ha.length; i++) {
                if (i < firstDiff) {
                    assertThat(hb[i]).as("block %d, token %d changed", i, changed).isEqualTo(ha[i]);
                } else {
                    assertThat(hb[i]).as("block %d, token %d changed", i, changed).isNotEqualTo(ha[i]);
                }
            }
        }
    }

    @Test
    void shouldNameOnlyFullBlocksAndStopAtMaxBlocks() {
        int[] a = tokens(3, 40);
        assertThat(PrefixChain.of(a, 31, 16)).hasSize(1);
        assertThat(PrefixChain.of(a, 40, 16, 1)).containsExactly(PrefixChain.of(a, 16, 16));
        assertThat(PrefixChain.of(a, 15, 16)).isEmpty();
    }

    @Test
    void shouldMatchTheIncrementalNameWhenChainedBlockByBlock() {
        int[] a = tokens(4, 64);
        BlockHash h = BlockHash.ROOT;
        BlockHash[] all = PrefixChain.of(a, 64, 16);
        for (int b = 0; b < 4; b++) {
            h = PrefixChain.next(h, a, b * 16, 16);
            assertThat(h).isEqualTo(all[b]);
        }
    }

    @Test
    void shouldGiveDistinctNamesToTheBlocksOfManyDistinctPrompts() {
        Set<BlockHash> seen = new HashSet<>();
        for (int s = 0; s < 200; s++) {
            for (BlockHash h : PrefixChain.of(tokens(100 + s, 64), 64, 16)) {
                assertThat(seen.add(h)).as("name %s seen twice", h).isTrue();
            }
        }
    }

    @Test
    void shouldRefuseABlockSizeBelowOne() {
        assertThatThrownBy(() -> PrefixChain.of(new int[4], 4, 0))
                .hasMessage("blockTokens=0, expected >= 1");
    }
}
