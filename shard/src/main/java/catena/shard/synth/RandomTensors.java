package catena.shard.synth;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufWriter.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Deterministic random tensor contents, generated straight into the stored format (Q8_0 or
 * Q4_0 blocks, or F32) and streamed in 1 MiB pieces: a 1 GB model is written in seconds. Each tensor draws
 * from its own SplitMix64 stream keyed by (seed, tensor name), so contents do not depend on the
 * order or number of other tensors (a {@code --layers 4} file holds the same first layers).
 */
public final class RandomTensors {
    private static final int CHUNK = 1 << 20;
    private final long seed;

    public RandomTensors(long seed) {
        this.seed = seed;
    }

    /** Weights uniform in ±std·√3 (standard deviation {@code std}). */
    public TensorSource uniform(String name, GgmlType type, long elements, float std) {
        float range = std * (float) Math.sqrt(3);
        return sink -> {
            SplitMix rnd = new SplitMix(seed ^ name.hashCode() * 0x9E3779B97F4A7C15L);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            if (type == GgmlType.Q8_0) {
                short d = Float.floatToFloat16(range / 127f);
                for (long b = 0; b < elements / 32; b++) {
                    if (buf.remaining() < 34) {
                        sink.put(buf.flip());
                        buf.clear();
                    }
                    buf.putShort(d);
                    for (int i = 0; i < 4; i++) {
                        long r = rnd.next();
                        for (int j = 0; j < 8; j++) {
                            byte q = (byte) (r >>> (8 * j));
                            buf.put(q == Byte.MIN_VALUE ? (byte) -127 : q);
                        }
                    }
                }
            } else if (type == GgmlType.Q4_0) {
                // nibbles uniform in 0..15: weights (q - 8) * d within about ±range
                short d = Float.floatToFloat16(range / 8f);
                for (long b = 0; b < elements / 32; b++) {
                    if (buf.remaining() < 18) {
                        sink.put(buf.flip());
                        buf.clear();
                    }
                    buf.putShort(d);
                    for (int i = 0; i < 2; i++) {
                        long r = rnd.next();
                        for (int j = 0; j < 8; j++) {
                            buf.put((byte) (r >>> (8 * j)));
                        }
                    }
                }
            } else if (type == GgmlType.F32) {
                for (long i = 0; i < elements; i++) {
                    if (buf.remaining() < 4) {
                        sink.put(buf.flip());
                        buf.clear();
                    }
                    buf.putFloat(((rnd.next() >>> 40) * 0x1.0p-24f * 2 - 1) * range);
                }
            } else {
                throw new IllegalArgumentException("synth writes q8_0, q4_0 or f32, not " + type);
            }
            sink.put(buf.flip());
        };
    }

    /** Every element {@code value} (norm weights), F32. */
    public static TensorSource constant(long elements, float value) {
        return sink -> {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, elements * 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < elements; i++) {
                if (buf.remaining() < 4) {
                    sink.put(buf.flip());
                    buf.clear();
                }
                buf.putFloat(value);
            }
            sink.put(buf.flip());
        };
    }

    /** Explicit F32 values. */
    public static TensorSource floats(float[] values) {
        return sink -> {
            ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            sink.put(buf);
        };
    }

    private static final class SplitMix {
        private long state;

        SplitMix(long seed) {
            state = seed;
        }

        long next() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
