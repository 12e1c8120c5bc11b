package catena.shard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Page layouts, ggml's rounding rules, the Hadamard rotation and the auto KV budget. */
class KvTypeTest {
    @Test
    void shouldQuantizeQ8LikeGgmlX86RoundingHalvesToEven() {
        int kvDim = 32;
        float[] x = new float[kvDim];
        x[0] = 127f; // amax 127: d = 1, multiplier 127/127 = 1
        x[1] = 2.5f;
        x[2] = 3.5f;
        x[3] = -2.5f;
        x[4] = 0.49f;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment page = a.allocate(KvType.Q8_0.pageBytes(kvDim));
            KvType.Q8_0.store(page, 5, kvDim, x, 0);
            float[] back = new float[kvDim];
            KvType.Q8_0.load(page, 5, kvDim, 0, kvDim, back, 0);
            assertThat(back[0]).isEqualTo(127f);
            assertThat(back[1]).as("2.5 rounds to even").isEqualTo(2f);
            assertThat(back[2]).isEqualTo(4f);
            assertThat(back[3]).isEqualTo(-2f);
            assertThat(back[4]).isEqualTo(0f);
            assertThat(KvType.Q8_0.pageBytes(kvDim)).isEqualTo(16 * 34);
        }
    }

    @Test
    void shouldStoreF16AsIeeeHalfAndQ8WithinHalfAStep() {
        int kvDim = 64;
        float[] x = new float[kvDim];
        Random rnd = new Random(1);
        for (int i = 0; i < kvDim; i++) {
            x[i] = (float) rnd.nextGaussian() * 3f;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment page = a.allocate(KvType.F16.pageBytes(kvDim));
            float[] back = new float[kvDim];
            KvType.F16.store(page, 15, kvDim, x, 0);
            KvType.F16.load(page, 15, kvDim, 0, kvDim, back, 0);
            for (int i = 0; i < kvDim; i++) {
                assertThat(back[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(x[i])));
            }
            MemorySegment q = a.allocate(KvType.Q8_0.pageBytes(kvDim));
            KvType.Q8_0.store(q, 15, kvDim, x, 0);
            KvType.Q8_0.load(q, 15, kvDim, 32, 32, back, 0);
            float amax = 0f;
            for (int i = 32; i < 64; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            for (int i = 0; i < 32; i++) {
                assertThat(Math.abs(back[i] - x[32 + i])).isLessThanOrEqualTo(amax / 127f * 0.51f);
            }
        }
    }

    @Test
    void shouldRefuseQ8WhenAHeadIsNotWholeBlocks() {
        assertThatThrownBy(() -> KvType.Q8_0.requireFits(3, 8))
                .hasMessage("--kv-type=q8_0: layer 3 has headDim=8, expected a multiple of 32 (a Q8_0 block must lie within one head)");
    }

    @Test
    void shouldRotateLikeTheDenseHadamardMatrixAndBackToTheStart() {
        Random rnd = new Random(5);
        for (int block : new int[] {64, 128, 256}) {
            float[] x = new float[2 * block];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] fast = x.clone();
            float[] dense = x.clone();
            KvRotation.rotate(fast, 0, x.length, block);
            KvRotation.rotateDense(dense, 0, x.length, block);
            for (int i = 0; i < x.length; i++) {
                assertThat(fast[i]).isCloseTo(dense[i], org.assertj.core.data.Offset.offset(1e-5f));
            }
            KvRotation.rotate(fast, 0, x.length, block);
            for (int i = 0; i < x.length; i++) {
                assertThat(fast[i]).as("H x H = I").isCloseTo(x[i], org.assertj.core.data.Offset.offset(1e-5f));
            }
        }
    }

    @Test
    void shouldDotQ8InVectorsExactlyAsTheIntegerReference() {
        Random rnd = new Random(9);
        int n = 256;
        float[] a = new float[n];
        float[] b = new float[n];
        float[] as = new float[n / 32];
        float[] bs = new float[n / 32];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextInt(255) - 127;
            b[i] = rnd.nextInt(255) - 127;
        }
        for (int i = 0; i < n / 32; i++) {
            as[i] = rnd.nextFloat();
            bs[i] = rnd.nextFloat();
        }
        assertThat(KvQuant.dotQ8(a, 0, as, 0, b, 0, bs, 0, n / 32))
                .isEqualTo(KvQuant.dotQ8Scalar(a, 0, as, 0, b, 0, bs, 0, n / 32));
    }

    @Test
    void shouldRotateOnlyQuantizedCachesWhoseHeadsAreOneMultipleOf64() throws Exception {
        try (Model gemma = Model.load(catena.shard.Fixtures.file("tiny/tiny-gemma3-f32.gguf"), LoadOptions.defaults());
             Model llama = Model.load(catena.shard.Fixtures.file("tiny/tiny-llama-f32.gguf"), LoadOptions.defaults());
             Model g4 = Model.load(catena.shard.Fixtures.file("tiny/tiny-gemma4-f32.gguf"), LoadOptions.defaults())) {
            assertThat(KvRotation.keyBlocks(gemma.config(), KvType.Q8_0)).containsOnly(64);
            assertThat(KvRotation.keyBlocks(gemma.config(), KvType.F16)).containsOnly(0);
            assertThat(KvRotation.keyBlocks(llama.config(), KvType.Q8_0)).as("head 32").containsOnly(0);
            assertThat(KvRotation.keyBlocks(g4.config(), KvType.Q8_0)).as("first layer's head 32").containsOnly(0);
        }
    }

    @Test
    void shouldTakeTheCgroupLimitOverPhysicalMemory(@TempDir Path dir) throws Exception {
        long physical = 64L << 30;
        assertThat(KvMemory.limitBytes(dir, physical)).as("no cgroup files").isEqualTo(physical);
        Files.writeString(dir.resolve("memory.max"), "max\n");
        assertThat(KvMemory.limitBytes(dir, physical)).as("v2 unlimited").isEqualTo(physical);
        Files.writeString(dir.resolve("memory.max"), "6442450944\n");
        assertThat(KvMemory.limitBytes(dir, physical)).isEqualTo(6L << 30);
        Files.delete(dir.resolve("memory.max"));
        Files.createDirectories(dir.resolve("memory"));
        Files.writeString(dir.resolve("memory/memory.limit_in_bytes"), "9223372036854771712\n");
        assertThat(KvMemory.limitBytes(dir, physical)).as("v1 unlimited").isEqualTo(physical);
        Files.writeString(dir.resolve("memory/memory.limit_in_bytes"), "4294967296\n");
        assertThat(KvMemory.limitBytes(dir, physical)).isEqualTo(4L << 30);
    }

    @Test
    void shouldLeaveTheHeapTheReserveAndTheWeightsOutOfAnAutoBudget() {
        long gib = 1L << 30;
        // 6 GiB pod, -Xmx2g, 1 GiB of weights: 6 - 2 - 0.375 - 1 = 2.625 GiB
        assertThat(KvMemory.auto(6 * gib, 2 * gib, gib, 1)).isEqualTo(6 * gib - 2 * gib - KvMemory.RESERVE - gib);
        // two stages in one process split what the heap and reserve leave, each minus its own weights
        assertThat(KvMemory.auto(6 * gib, 2 * gib, gib / 2, 2)).isEqualTo((4 * gib - KvMemory.RESERVE) / 2 - gib / 2);
        assertThat(KvMemory.auto(gib, 2 * gib, gib, 1)).as("nothing left").isEqualTo(KvMemory.MINIMUM);
    }
}
