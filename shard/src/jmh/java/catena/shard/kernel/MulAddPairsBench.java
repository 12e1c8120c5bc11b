package catena.shard.kernel;

import catena.shard.tensor.Q8Matrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The last int-dot-product lead (issue #14): C2's SuperWord turns
 * {@code t[p] = a[2p]*b[2p] + a[2p+1]*b[2p+1]} over two {@code short[]} into {@code vpmaddwd} (or
 * {@code vpdpwssd} with AVX-512 VNNI), the only int16 multiply-add-pairs Java reaches today. Can a
 * Q8_0 decode row built on it beat the engine's loop? One core, one 1024x1152 Q8_0 matrix (1.2 MB,
 * L2-resident: the loops' compute ceiling). Gweights/s = 1179.6 / (us per op).
 *
 * <ul>
 *   <li>{@code engine}: the engine's single-threaded decode body ({@link VectorMatMul#rows}).
 *   <li>{@code pairsOnly}: the SuperWord loop alone, over weights already held as int16 (twice the
 *       bytes) against int16 activations: the int16 route's ceiling, with no widening and no scales.
 *   <li>{@code int16Row}: the whole route on the engine's int8 weights: per row, widen to int16
 *       (Vector API), the SuperWord pair loop, then per block one conversion and one FMA by
 *       {@code d_w * d_x}.
 *   <li>{@code pairsBytes}: the pair loop with the weights read as {@code byte[]}: SuperWord does
 *       not form the pattern from byte loads, so this stays scalar (the reason for the widening pass).
 * </ul>
 * Run: {@code .ci/jmh MulAddPairsBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g",
    "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class MulAddPairsBench {
    private static final int ROWS = 1024;
    private static final int COLS = 1152;
    private static final int BLOCKS = COLS / Q8Matrix.BLOCK;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;

    private Arena arena;
    private Q8Matrix w;
    private float[] x;
    private float[] out;
    private short[] xs;
    private float[] xd;
    private short[] wsAll;
    private byte[] wbAll;
    private short[] ws;
    private int[] t;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        w = BenchMatrices.q8Copies(arena, ROWS, COLS, 0)[0];
        x = BenchMatrices.floats(COLS);
        out = new float[ROWS];
        xs = new short[COLS];
        xd = new float[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            float m = 0;
            for (int j = 0; j < Q8Matrix.BLOCK; j++) {
                m = Math.max(m, Math.abs(x[b * Q8Matrix.BLOCK + j]));
            }
            xd[b] = m / Short.MAX_VALUE;
            for (int j = 0; j < Q8Matrix.BLOCK; j++) {
                xs[b * Q8Matrix.BLOCK + j] = (short) Math.round(x[b * Q8Matrix.BLOCK + j] / xd[b]);
            }
        }
        wsAll = new short[ROWS * COLS];
        wbAll = new byte[ROWS * COLS];
        for (int r = 0; r < ROWS; r++) {
            for (int k = 0; k < COLS; k++) {
                wbAll[r * COLS + k] = w.quant(r, k);
                wsAll[r * COLS + k] = wbAll[r * COLS + k];
            }
        }
        ws = new short[COLS];
        t = new int[COLS / 2];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] engine() {
        VectorMatMul.rows(w, x, 0, out, 0, 1, 0, ROWS);
        return out;
    }

    @Benchmark
    public int[] pairsOnly() {
        for (int r = 0; r < ROWS; r++) {
            pairs(xs, wsAll, r * COLS, t);
        }
        return t;
    }

    @Benchmark
    public int[] pairsBytes() {
        for (int r = 0; r < ROWS; r++) {
            pairs(xs, wbAll, r * COLS, t);
        }
        return t;
    }

    @Benchmark
    public float[] int16Row() {
        MemorySegment q = w.quants();
        for (int r = 0; r < ROWS; r++) {
            long row = (long) r * COLS;
            for (int k = 0; k < COLS; k += B.length()) {
                ((ShortVector) ByteVector.fromMemorySegment(B, q, row + k, VectorMatMul.LE)
                        .convertShape(VectorOperators.B2S, S, 0)).intoArray(ws, k);
            }
            pairs(xs, ws, 0, t);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < BLOCKS; b++) {
                FloatVector tv = (FloatVector) IntVector.fromArray(I, t, b * I.length()).convertShape(VectorOperators.I2F, F, 0);
                acc = tv.fma(FloatVector.broadcast(F, w.scale(r, b) * xd[b]), acc);
            }
            out[r] = acc.reduceLanes(VectorOperators.ADD);
        }
        return out;
    }

    private static void pairs(short[] a, short[] b, int bOff, int[] t) {
        for (int p = 0; p < COLS / 2; p++) {
            t[p] = a[2 * p] * b[bOff + 2 * p] + a[2 * p + 1] * b[bOff + 2 * p + 1];
        }
    }

    private static void pairs(short[] a, byte[] b, int bOff, int[] t) {
        for (int p = 0; p < COLS / 2; p++) {
            t[p] = a[2 * p] * b[bOff + 2 * p] + a[2 * p + 1] * b[bOff + 2 * p + 1];
        }
    }
}
