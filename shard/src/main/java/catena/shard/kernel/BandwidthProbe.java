package catena.shard.kernel;

import catena.shard.tensor.WeightMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory read bandwidth as the kernels can see it: {@code threads} threads each sum their share of
 * an off-heap array (1 GiB by default, far beyond any cache; in {@link WeightMemory}, like the
 * weights) with the Vector API; the best of
 * several runs, in GB/s (10^9 bytes). The denominator of the bench command's decode efficiency.
 */
public final class BandwidthProbe {
    public static final long DEFAULT_BYTES = 1L << 30;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private BandwidthProbe() {
    }

    /** Prints the bandwidth of {@code [threads [MiB [runs]]]} (default 2 threads, 1024 MiB, 5 runs) to stdout. */
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        long bytes = args.length > 1 ? Long.parseLong(args[1]) << 20 : DEFAULT_BYTES;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        System.out.printf("BandwidthProbe: %d threads, %d MiB, best of %d: %.2f GB/s%n",
                threads, bytes >> 20, runs, measure(threads, bytes, runs));
    }

    /** {@code measure(2, DEFAULT_BYTES, 5)}. */
    public static double measure() {
        return measure(2, DEFAULT_BYTES, 5);
    }

    /**
     * Best GB/s of {@code runs} passes of {@code threads} threads over {@code bytes} bytes (rounded
     * down to a multiple of threads x 4 vectors). The array is freed before returning.
     */
    public static double measure(int threads, long bytes, int runs) {
        if (threads < 1 || runs < 1) {
            throw new IllegalArgumentException("bandwidth probe: threads=" + threads + ", runs=" + runs + ", expected >= 1");
        }
        long unit = (long) threads * 4 * F.vectorByteSize();
        long size = bytes / unit * unit;
        if (size == 0) {
            throw new IllegalArgumentException("bandwidth probe: bytes=" + bytes + ", expected >= " + unit);
        }
        // Owned here and closed on return: the probe must not keep a GiB alive.
        try (Arena arena = Arena.ofShared()) {
            // The same kind of memory the weights live in (huge pages where available): a probe over
            // 4 KiB pages would read less and flatter every efficiency computed against it.
            MemorySegment seg = WeightMemory.allocate(size, arena);
            seg.fill((byte) 1); // touch every page so the runs measure memory, not page faults
            // Compile sum() with C2 before timing: an interpreted or OSR-compiled first pass under-reads,
            // which would flatter every efficiency computed against this number.
            long warm = Math.min(size, 16L << 20) / unit * unit;
            for (int i = 0; i < 200; i++) {
                sum(seg, 0, warm);
            }
            long share = size / threads;
            double best = 0;
            float[] sums = new float[threads];
            for (int run = 0; run < runs; run++) {
                Thread[] ts = new Thread[threads];
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    ts[t] = new Thread(() -> sums[id] = sum(seg, id * share, share));
                    ts[t].start();
                }
                for (Thread th : ts) {
                    try {
                        th.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("bandwidth probe interrupted", e);
                    }
                }
                long ns = System.nanoTime() - start;
                best = Math.max(best, size / (double) ns);
            }
            if (Float.isNaN(sums[0])) {
                throw new AssertionError("unreachable: keeps the sums alive");
            }
            return best;
        }
    }

    /** Sum of floats in [from, from+len): four independent accumulators hide the add latency. */
    static float sum(MemorySegment seg, long from, long len) {
        long step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long end = from + len;
        for (long o = from; o < end; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, seg, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, seg, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, seg, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }
}
