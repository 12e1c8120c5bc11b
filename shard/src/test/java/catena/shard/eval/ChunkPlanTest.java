package catena.shard.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChunkPlanTest {
    @Test
    void shouldTakeEveryWholeChunkWhenNoCountIsAsked() {
        ChunkPlan p = ChunkPlan.of(2084, 128, -1);
        assertThat(p.chunks()).isEqualTo(16); // 2084 / 128 = 16.3: the tail of 36 tokens is not scored
        assertThat(p.tokensUsed()).isEqualTo(2048);
    }

    @Test
    void shouldScoreTheSecondHalfWithoutTheLastLogitsRowWhenCtxIsEven() {
        ChunkPlan p = ChunkPlan.of(1000, 128, -1);
        assertThat(p.first()).isEqualTo(64);
        assertThat(p.scoredPerChunk()).isEqualTo(63);
        assertThat(p.scoredTotal()).isEqualTo(7L * 63);
        // row 0 (chunk position 64) predicts the token at 65; the last row (126) the chunk's last token (127)
        assertThat(p.target(0, 0)).isEqualTo(65);
        assertThat(p.target(2, 62)).isEqualTo(p.start(2) + 127).isEqualTo(383);
    }

    @Test
    void shouldRoundTheHalfDownWhenCtxIsOdd() {
        ChunkPlan p = ChunkPlan.of(100, 9, -1);
        assertThat(p.first()).isEqualTo(4);
        assertThat(p.scoredPerChunk()).isEqualTo(4); // rows 4..7 predict tokens 5..8
        assertThat(p.target(1, 3)).isEqualTo(17);
    }

    @Test
    void shouldCapTheChunkCountWhenFewerAreAsked() {
        assertThat(ChunkPlan.of(2084, 128, 5).chunks()).isEqualTo(5);
        assertThat(ChunkPlan.of(2084, 128, 100).chunks()).isEqualTo(16);
    }

    @Test
    void shouldRefuseATextShorterThanTwoChunksWhenPlanning() {
        assertThat(ChunkPlan.of(256, 128, -1).chunks()).isEqualTo(2);
        assertThatThrownBy(() -> ChunkPlan.of(255, 128, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokens=255").hasMessageContaining("2*ctx=256");
        assertThatThrownBy(() -> ChunkPlan.of(100, 2, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--ctx=2");
    }
}
