package catena.shard.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * What bounds the 3x8 tile's loop (one core, everything in L1): each variant adds one ingredient
 * of {@code VectorMatMul.q8Tiles3x8}'s step to 24 FMAs on registers ({@code -p variant=...}). An
 * op is {@code REPS} passes of {@code cols / L} steps over 8 interleaved activation rows and 3
 * weight rows; .ci/jmh prints no GFLOP/s for it (no shape), so divide: 2 * 24 * L * steps * REPS
 * flops per op.
 * <ul>
 *   <li>{@code fma}: 24 FMAs, weights and activations in registers (the peak);
 *   <li>{@code act}: + the 8 activation loads (weights in registers);
 *   <li>{@code actF32w}: + 3 f32 weight loads;
 *   <li>{@code actI8w}: + 3 int8 weight loads, widened and converted (no scale);
 *   <li>{@code actI32w}: + 3 int32 weight loads converted (the conversion alone);
 *   <li>{@code actWidenOnly}: + 3 int8 weight loads widened to int32, not converted (wrong values;
 *       the widening alone);
 *   <li>{@code actI32Shift2w}: + 3 int32 weight loads, a shift pair each (byte 2 of every lane,
 *       sign-extended) and converted: widening by shifts instead of {@code vpmovsxbd};
 *   <li>{@code full}: + the scale (broadcast load and multiply), as the engine's tile;
 *   <li>{@code shiftGroup}: the whole step on weights as the engine holds them, widened by shift
 *       pairs: each 4L-column group is loaded once as L ints and sub-step j (0..3) takes byte j of
 *       every lane, so lane l holds column 4l+j; the activations would be permuted to match, and
 *       the scale vector holds the group's two block scales (L = 16) once per group. The shift
 *       count varies with j (a loop of four): written out with constant counts the method is too
 *       big for C1's profiling tier ("out of virtual registers") and stays in the Vector API's Java
 *       fallback.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class TileBoundBench {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Byte> B = VectorMatMul.B;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    /** Columns per pass; 8 activation rows of f32 take 32 bytes per column (512: 16 KiB). */
    @Param({"512"})
    public int cols;

    /** Passes per op, so that an op lasts long enough to time. */
    static final int REPS = 64;

    private Arena arena;
    private MemorySegment x8;
    private MemorySegment q;
    private MemorySegment w32;
    private MemorySegment sc;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        x8 = arena.allocate(8L * cols * Float.BYTES, 64);
        w32 = arena.allocate(3L * cols * Float.BYTES, 64);
        q = arena.allocate(3L * cols, 64);
        sc = arena.allocate(3L * cols / 32 * Float.BYTES, 64);
        for (long i = 0; i < 8L * cols; i++) {
            x8.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.01f);
        }
        for (long i = 0; i < 3L * cols; i++) {
            w32.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 5) * 0.01f);
            q.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 11 - 5));
        }
        for (long i = 0; i < 3L * cols / 32; i++) {
            sc.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0.01f);
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** The variant, one of {@link #VARIANTS} (see the class comment). */
    @Param({"fma", "act", "actF32w", "actI32w", "actI32Shift2w", "actWidenOnly", "actI8w", "full", "shiftGroup"})
    public String variant;

    private static final java.util.List<String> VARIANTS =
            java.util.List.of("fma", "act", "actF32w", "actI32w", "actI32Shift2w", "actWidenOnly", "actI8w", "full", "shiftGroup");
    private static final int FMA = 0, ACT = 1, ACT_F32W = 2, ACT_I32W = 3, ACT_I32_SHIFT2W = 4, ACT_WIDEN_ONLY = 5,
            ACT_I8W = 6, FULL = 7, SHIFT_GROUP = 8;

    @Benchmark
    public float step() {
        int v = VARIANTS.indexOf(variant);
        float s = 0;
        for (int r = 0; r < REPS; r++) {
            s += v == FMA ? fmaOnly(cols) : v == SHIFT_GROUP ? shiftGroup(x8, q, sc, cols) : tile(x8, w32, q, sc, cols, v);
        }
        return s;
    }

    /** The upper half of the lanes: with 16 lanes, a 64-column group's second block. */
    static final VectorMask<Float> HIGH = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));

    /** Weights of sub-step j of a 4L-column group at byte at: lane l = column 4l+j, sign-extended by a shift pair. */
    private static FloatVector wj(MemorySegment q, long at, int j, FloatVector d) {
        IntVector v = IntVector.fromMemorySegment(I, q, at, LE);
        IntVector e = v.lanewise(VectorOperators.LSHL, 24 - 8 * j).lanewise(VectorOperators.ASHR, 24);
        return ((FloatVector) e.convert(VectorOperators.I2F, 0)).mul(d);
    }

    private static float shiftGroup(MemorySegment x8, MemorySegment q, MemorySegment sc, int cols) {
        long vecBytes = (long) L * Float.BYTES;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
        long xk = 0;
        long third = cols;
        long sThird = third / 32 * 4;
        for (long k = 0; k < cols; k += 4L * L) {
            long s = (k >> 5) * 4;
            FloatVector d0 = FloatVector.broadcast(F, sc.get(ValueLayout.JAVA_FLOAT, s)).blend(sc.get(ValueLayout.JAVA_FLOAT, s + 4), HIGH);
            FloatVector d1 = FloatVector.broadcast(F, sc.get(ValueLayout.JAVA_FLOAT, s + sThird)).blend(sc.get(ValueLayout.JAVA_FLOAT, s + sThird + 4), HIGH);
            FloatVector d2 = FloatVector.broadcast(F, sc.get(ValueLayout.JAVA_FLOAT, s + 2 * sThird)).blend(sc.get(ValueLayout.JAVA_FLOAT, s + 2 * sThird + 4), HIGH);
            for (int j = 0; j < 4; j++) {
                FloatVector w0 = wj(q, k, j, d0);
                FloatVector w1 = wj(q, k + third, j, d1);
                FloatVector w2 = wj(q, k + 2 * third, j, d2);
                FloatVector xv;
                xv = FloatVector.fromMemorySegment(F, x8, xk, LE);
                a00 = w0.fma(xv, a00); a10 = w1.fma(xv, a10); a20 = w2.fma(xv, a20);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 1 * vecBytes, LE);
                a01 = w0.fma(xv, a01); a11 = w1.fma(xv, a11); a21 = w2.fma(xv, a21);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 2 * vecBytes, LE);
                a02 = w0.fma(xv, a02); a12 = w1.fma(xv, a12); a22 = w2.fma(xv, a22);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 3 * vecBytes, LE);
                a03 = w0.fma(xv, a03); a13 = w1.fma(xv, a13); a23 = w2.fma(xv, a23);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 4 * vecBytes, LE);
                a04 = w0.fma(xv, a04); a14 = w1.fma(xv, a14); a24 = w2.fma(xv, a24);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 5 * vecBytes, LE);
                a05 = w0.fma(xv, a05); a15 = w1.fma(xv, a15); a25 = w2.fma(xv, a25);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 6 * vecBytes, LE);
                a06 = w0.fma(xv, a06); a16 = w1.fma(xv, a16); a26 = w2.fma(xv, a26);
                xv = FloatVector.fromMemorySegment(F, x8, xk + 7 * vecBytes, LE);
                a07 = w0.fma(xv, a07); a17 = w1.fma(xv, a17); a27 = w2.fma(xv, a27);
                xk += 8 * vecBytes;
            }
        }
        return a00.add(a01).add(a02).add(a03).add(a04).add(a05).add(a06).add(a07)
                .add(a10).add(a11).add(a12).add(a13).add(a14).add(a15).add(a16).add(a17)
                .add(a20).add(a21).add(a22).add(a23).add(a24).add(a25).add(a26).add(a27).lane(0);
    }

    private static float fmaOnly(int cols) {
        FloatVector w0 = FloatVector.broadcast(F, 1.0001f), w1 = FloatVector.broadcast(F, 0.9999f), w2 = FloatVector.broadcast(F, 1.0002f);
        FloatVector x0 = FloatVector.broadcast(F, 0.001f), x1 = x0.add(0.001f), x2 = x1.add(0.001f), x3 = x2.add(0.001f);
        FloatVector x4 = x3.add(0.001f), x5 = x4.add(0.001f), x6 = x5.add(0.001f), x7 = x6.add(0.001f);
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
        for (int k = 0; k < cols; k += L) {
            a00 = w0.fma(x0, a00); a10 = w1.fma(x0, a10); a20 = w2.fma(x0, a20);
            a01 = w0.fma(x1, a01); a11 = w1.fma(x1, a11); a21 = w2.fma(x1, a21);
            a02 = w0.fma(x2, a02); a12 = w1.fma(x2, a12); a22 = w2.fma(x2, a22);
            a03 = w0.fma(x3, a03); a13 = w1.fma(x3, a13); a23 = w2.fma(x3, a23);
            a04 = w0.fma(x4, a04); a14 = w1.fma(x4, a14); a24 = w2.fma(x4, a24);
            a05 = w0.fma(x5, a05); a15 = w1.fma(x5, a15); a25 = w2.fma(x5, a25);
            a06 = w0.fma(x6, a06); a16 = w1.fma(x6, a16); a26 = w2.fma(x6, a26);
            a07 = w0.fma(x7, a07); a17 = w1.fma(x7, a17); a27 = w2.fma(x7, a27);
        }
        return a00.add(a01).add(a02).add(a03).add(a04).add(a05).add(a06).add(a07)
                .add(a10).add(a11).add(a12).add(a13).add(a14).add(a15).add(a16).add(a17)
                .add(a20).add(a21).add(a22).add(a23).add(a24).add(a25).add(a26).add(a27).lane(0);
    }

    private static float tile(MemorySegment x8, MemorySegment w32, MemorySegment q, MemorySegment sc, int cols, int v) {
        long vecBytes = (long) L * Float.BYTES;
        FloatVector c0 = FloatVector.broadcast(F, 1.0001f), c1 = FloatVector.broadcast(F, 0.9999f), c2 = FloatVector.broadcast(F, 1.0002f);
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a06 = a00, a07 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00, a16 = a00, a17 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00, a26 = a00, a27 = a00;
        long xk = 0;
        long third = cols;
        for (long k = 0; k < cols; k += L, xk += 8 * vecBytes) {
            FloatVector w0, w1, w2;
            if (v == ACT) {
                w0 = c0;
                w1 = c1;
                w2 = c2;
            } else if (v == ACT_F32W) {
                w0 = FloatVector.fromMemorySegment(F, w32, k * 4, LE);
                w1 = FloatVector.fromMemorySegment(F, w32, (k + third) * 4, LE);
                w2 = FloatVector.fromMemorySegment(F, w32, (k + 2 * third) * 4, LE);
            } else if (v == ACT_I32W) {
                w0 = IntVector.fromMemorySegment(I, w32, k * 4, LE).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                w1 = IntVector.fromMemorySegment(I, w32, (k + third) * 4, LE).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                w2 = IntVector.fromMemorySegment(I, w32, (k + 2 * third) * 4, LE).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            } else if (v == ACT_WIDEN_ONLY) {
                w0 = ((IntVector) ByteVector.fromMemorySegment(B, q, k, LE).convertShape(VectorOperators.B2I, I, 0)).reinterpretAsFloats();
                w1 = ((IntVector) ByteVector.fromMemorySegment(B, q, k + third, LE).convertShape(VectorOperators.B2I, I, 0)).reinterpretAsFloats();
                w2 = ((IntVector) ByteVector.fromMemorySegment(B, q, k + 2 * third, LE).convertShape(VectorOperators.B2I, I, 0)).reinterpretAsFloats();
            } else if (v == ACT_I32_SHIFT2W) {
                w0 = IntVector.fromMemorySegment(I, w32, k * 4, LE).lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24)
                        .convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                w1 = IntVector.fromMemorySegment(I, w32, (k + third) * 4, LE).lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24)
                        .convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                w2 = IntVector.fromMemorySegment(I, w32, (k + 2 * third) * 4, LE).lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24)
                        .convert(VectorOperators.I2F, 0).reinterpretAsFloats();
            } else if (v == ACT_I8W) {
                w0 = (FloatVector) ByteVector.fromMemorySegment(B, q, k, LE).convertShape(VectorOperators.B2F, F, 0);
                w1 = (FloatVector) ByteVector.fromMemorySegment(B, q, k + third, LE).convertShape(VectorOperators.B2F, F, 0);
                w2 = (FloatVector) ByteVector.fromMemorySegment(B, q, k + 2 * third, LE).convertShape(VectorOperators.B2F, F, 0);
            } else { // FULL
                long s = (k >> 5) * 4;
                long sThird = third / 32 * 4;
                w0 = ((FloatVector) ByteVector.fromMemorySegment(B, q, k, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(sc.get(ValueLayout.JAVA_FLOAT, s));
                w1 = ((FloatVector) ByteVector.fromMemorySegment(B, q, k + third, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(sc.get(ValueLayout.JAVA_FLOAT, s + sThird));
                w2 = ((FloatVector) ByteVector.fromMemorySegment(B, q, k + 2 * third, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(sc.get(ValueLayout.JAVA_FLOAT, s + 2 * sThird));
            }
            FloatVector xv = FloatVector.fromMemorySegment(F, x8, xk, LE);
            a00 = w0.fma(xv, a00); a10 = w1.fma(xv, a10); a20 = w2.fma(xv, a20);
            xv = FloatVector.fromMemorySegment(F, x8, xk + vecBytes, LE);
            a01 = w0.fma(xv, a01); a11 = w1.fma(xv, a11); a21 = w2.fma(xv, a21);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 2 * vecBytes, LE);
            a02 = w0.fma(xv, a02); a12 = w1.fma(xv, a12); a22 = w2.fma(xv, a22);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 3 * vecBytes, LE);
            a03 = w0.fma(xv, a03); a13 = w1.fma(xv, a13); a23 = w2.fma(xv, a23);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 4 * vecBytes, LE);
            a04 = w0.fma(xv, a04); a14 = w1.fma(xv, a14); a24 = w2.fma(xv, a24);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 5 * vecBytes, LE);
            a05 = w0.fma(xv, a05); a15 = w1.fma(xv, a15); a25 = w2.fma(xv, a25);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 6 * vecBytes, LE);
            a06 = w0.fma(xv, a06); a16 = w1.fma(xv, a16); a26 = w2.fma(xv, a26);
            xv = FloatVector.fromMemorySegment(F, x8, xk + 7 * vecBytes, LE);
            a07 = w0.fma(xv, a07); a17 = w1.fma(xv, a17); a27 = w2.fma(xv, a27);
        }
        return a00.add(a01).add(a02).add(a03).add(a04).add(a05).add(a06).add(a07)
                .add(a10).add(a11).add(a12).add(a13).add(a14).add(a15).add(a16).add(a17)
                .add(a20).add(a21).add(a22).add(a23).add(a24).add(a25).add(a26).add(a27).lane(0);
    }
}
