package catena.shard.kernel;

import catena.shard.tensor.Matrix;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decode: one activation row against a Gemma-3-1B FFN matrix (rows x cols; 6912x1152 = gate/up,
 * 1152x6912 = down). {@code cold} cycles through 1 GiB of copies so every pass reads DRAM;
 * {@code hot} reuses one matrix (cache-resident: the kernel's compute ceiling). .ci/jmh converts
 * the time per op into GB/s of weight bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g",
    "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class MatVecBench {
    @Param({"6912x1152", "1152x6912"})
    public String shape;

    @Param({"cold", "hot"})
    public String mode;

    @Param({"2", "1"})
    public int threads;

    /** Weight type: q8_0, or q4_0 held as 4 bits (same rows and columns, 20 bytes per 32 weights instead of 36). */
    @Param({"q8_0", "q4_0"})
    public String type;

    private Arena arena;
    private Matrix[] ms;
    private float[] x;
    private float[] out;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = BenchMatrices.shape(shape);
        arena = Arena.ofShared();
        long total = "cold".equals(mode) ? 1L << 30 : 0;
        ms = "q4_0".equals(type) ? BenchMatrices.q4Copies(arena, s[0], s[1], total) : BenchMatrices.q8Copies(arena, s[0], s[1], total);
        x = BenchMatrices.floats(s[1]);
        out = new float[s[0]];
        ComputePool.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] vector() {
        Matrix w = ms[next];
        next = next + 1 == ms.length ? 0 : next + 1;
        MatMul.matmul(w, x, out, 1);
        return out;
    }

    @Benchmark
    public float[] scalar() {
        Matrix w = ms[next];
        next = next + 1 == ms.length ? 0 : next + 1;
        ScalarKernels.matmul(w, x, 0, out, 0, 1);
        return out;
    }
}
