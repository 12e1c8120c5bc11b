package catena.shard.sample;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sampling call at Gemma 3's vocabulary (262144) with a reused scratch, per chain. Logits are
 * Gaussian with standard deviation {@code spread}: 3 gives a wide top-p nucleus (the slow case for
 * top-p), 8 a peaked one. History: 64 random ids, used by the chains with a penalty.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx1g"})
public class SamplerBench {
    @Param({"greedy", "greedy-penalty", "k40-p0.95-minp0.05-penalty", "p0.95", "minp0.05", "temperature"})
    public String chain;

    @Param({"3", "8"})
    public double spread;

    private final int vocab = 262_144;
    private float[] logits;
    private final int[] history = new int[64];
    private SamplingParams params;
    private final Sampler sampler = new Sampler();
    private long step;

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(11);
        logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (r.nextGaussian() * spread);
        }
        for (int i = 0; i < history.length; i++) {
            history[i] = r.nextInt(vocab);
        }
        params = switch (chain) {
            case "greedy" -> SamplingParams.GREEDY;
            case "greedy-penalty" -> new SamplingParams(0f, 0, 1f, 0f, 1.1f, 64, 1);
            case "k40-p0.95-minp0.05-penalty" -> new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 1);
            case "p0.95" -> new SamplingParams(0.8f, 0, 0.95f, 0f, 1f, 64, 1);
            case "minp0.05" -> new SamplingParams(0.8f, 0, 1f, 0.05f, 1f, 64, 1);
            case "temperature" -> new SamplingParams(1f, 0, 1f, 0f, 1f, 64, 1);
            default -> throw new IllegalArgumentException("unknown chain: " + chain);
        };
    }

    @Benchmark
    public int sample() {
        return sampler.next(logits, 0, vocab, params, step++, history, history.length);
    }
}
