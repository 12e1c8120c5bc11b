package catena.shard.kernel;

import catena.shard.tensor.Q4Matrix;
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
 * Issue #16's question, one core, one 6912x1152 matrix per op from 1 GiB of copies (DRAM): can a
 * Q4_0 decode loop with int8 activations ({@link Q4Int8ActProbe}) run at the Q8_0 loop's weights
 * per second? {@code q8Engine} is the engine's Q8_0 matvec, {@code q4Engine} its Q4_0 one (f32
 * activations), the others the probe's variants (only {@code q4Int16Block} splits over threads;
 * the others' threads=2 rows are single-threaded). Gweights/s = 7963 / (us per op).
 * Run: {@code .ci/jmh Q4Int8ActBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g",
    "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class Q4Int8ActBench {
    private static final int ROWS = 6912;
    private static final int COLS = 1152;
    private static final int CHUNK_ROWS = 64;

    private Arena arena;
    private Q4Matrix[] q4;
    private Q8Matrix[] q8;
    private float[] x;
    private Q4Int8ActProbe probe;
    private float[] out;
    private int next;

    @Param({"1", "2"})
    public int threads;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        q4 = BenchMatrices.q4Copies(arena, ROWS, COLS, 1L << 30);
        q8 = BenchMatrices.q8Copies(arena, ROWS, COLS, 1L << 30);
        x = BenchMatrices.floats(COLS);
        probe = new Q4Int8ActProbe(x);
        out = new float[ROWS];
        ComputePool.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** The next of the copies, round robin (each benchmark method runs in its own trial). */
    private <M> M next(M[] copies) {
        M w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        return w;
    }

    @Benchmark
    public float[] q8Engine() {
        MatMul.matmul(next(q8), x, out, 1);
        return out;
    }

    @Benchmark
    public float[] q4Engine() {
        MatMul.matmul(next(q4), x, out, 1);
        return out;
    }

    @Benchmark
    public float[] q4Int16Block() {
        Q4Matrix w = next(q4);
        if (threads == 1) {
            probe.rowsBlock(w, 0, ROWS, out);
        } else {
            // 64-row chunks claimed by the pool's participants, as the engine's matmul does
            ComputePool.shared().run(c -> probe.rowsBlock(w, c * CHUNK_ROWS, (c + 1) * CHUNK_ROWS, out), ROWS / CHUNK_ROWS);
        }
        return out;
    }

    @Benchmark
    public float[] q4Int16Pair() {
        probe.rowsPair(next(q4), 0, ROWS, out);
        return out;
    }

    @Benchmark
    public float[] q4IntegerPartOnly() {
        probe.rowsIntegerOnly(next(q4), 0, ROWS, out);
        return out;
    }
}
