package catena.shard.kernel;

import catena.shard.tensor.Q8Matrix;
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
 * Prefill and batched decode: n activation rows against a Gemma-3-1B FFN matrix. .ci/jmh converts
 * the time per op into GFLOP/s (2 x rows x cols x n flops per op). {@code cold} cycles through
 * 1 GiB of copies (weights from DRAM, as in a real forward pass).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g",
    "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class MatMulBench {
    @Param({"6912x1152", "1152x6912"})
    public String shape;

    @Param({"8", "128"})
    public int n;

    @Param({"cold"})
    public String mode;

    @Param({"2", "1"})
    public int threads;

    private Arena arena;
    private Q8Matrix[] ms;
    private float[] x;
    private float[] out;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = BenchMatrices.shape(shape);
        arena = Arena.ofShared();
        ms = BenchMatrices.q8Copies(arena, s[0], s[1], "cold".equals(mode) ? 1L << 30 : 0);
        x = BenchMatrices.floats(n * s[1]);
        out = new float[n * s[0]];
        ComputePool.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] vector() {
        Q8Matrix w = ms[next];
        next = next + 1 == ms.length ? 0 : next + 1;
        MatMul.matmul(w, x, out, n);
        return out;
    }
}
