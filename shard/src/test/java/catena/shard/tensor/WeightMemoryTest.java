package catena.shard.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Weight memory: huge-page blocks on Linux, and a clear refusal when the weights cannot fit. */
class WeightMemoryTest {
    @Test
    void largeBlocksAreHugePageAlignedZeroedAndWritable() {
        try (Arena arena = Arena.ofConfined()) {
            long bytes = WeightMemory.HUGE_MIN_BYTES + 12345;
            MemorySegment s = WeightMemory.allocate(bytes, arena);
            assertThat(s.byteSize()).isEqualTo(bytes);
            if (System.getProperty("os.name").toLowerCase().contains("linux")) {
                assertThat(s.address() % (2L << 20)).as("2 MiB aligned on Linux").isZero();
            }
            assertThat(s.get(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8)).isZero();
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8, 42L);
            assertThat(s.get(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8)).isEqualTo(42L);
            MemorySegment small = WeightMemory.allocate(100, arena);
            assertThat(small.byteSize()).isEqualTo(100);
            assertThat(small.address() % 64).isZero();
        }
    }

    @Test
    void refusesWeightsBeyondAvailableMemoryWithTheNumbers() {
        assumeTrue(WeightMemory.availableBytes().isPresent(), "no /proc/meminfo here");
        long avail = WeightMemory.availableBytes().getAsLong();
        assertThatThrownBy(() -> WeightMemory.requireAvailable(2 * avail, "layers [0, 4) of big.gguf"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("layers [0, 4) of big.gguf needs ")
                .hasMessageContaining("GB is available on this machine; split the model over more pipeline stages");
        WeightMemory.requireAvailable(avail / 100, "a small slice");
    }
}
