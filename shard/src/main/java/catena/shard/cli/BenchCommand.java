package catena.shard.cli;

import catena.shard.kernel.BandwidthProbe;
import catena.shard.kernel.ComputePool;
import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.KvPool;
import catena.shard.model.KvType;
import catena.shard.model.Model;
import catena.shard.model.ModelConfig;
import catena.shard.model.StepProfile;
import catena.shard.sample.Sampler;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench}: prefill, decode and batched-decode speed of a model on this machine, next to the
 * memory bandwidth the kernels can see, so that decode speed reads as a fraction of what memory
 * allows (decode_efficiency = bytes_per_token x decode_tok_s / bandwidth).
 *
 * <p>Prompts are synthetic token ids (speed does not depend on them); decoding is greedy. Every
 * measurement runs {@code --repeats} times on fresh caches after one warm-up pass (JIT), and the
 * median is reported. Progress goes to stderr; results to stdout, with {@code --json} ending in one
 * JSON line.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill, decode and batched-decode tokens/s, weight bytes per token and memory bandwidth.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--threads", paramLabel = "N", description = "compute threads, the caller included (default: -Dcatena.threads or all processors)")
    Integer threads;

    @Option(names = "--prompt", paramLabel = "P", defaultValue = "128", description = "prompt tokens of the prefill measurement (default: ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--gen", paramLabel = "G", defaultValue = "64", description = "decoded tokens per decode measurement (default: ${DEFAULT-VALUE})")
    int gen;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "sequences decoded together in the batched measurement (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--batch-prompt", paramLabel = "P", defaultValue = "16",
            description = "prompt tokens of each batched sequence, prefilled together before timing (default: ${DEFAULT-VALUE})")
    int batchPrompt;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "3", description = "runs of each measurement; the median is reported (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--probe-mib", paramLabel = "MIB", defaultValue = "1024", description = "size of the bandwidth probe's array (default: ${DEFAULT-VALUE})")
    int probeMib;

    @Option(names = "--profile", description = "after the measurements, one more prefill, decode and batched-decode run timed step by step (norms, projections, attention, head...)")
    boolean profile;

    @Option(names = "--json", description = "end with one JSON line: prefill_tok_s, decode_tok_s, batch, batch_decode_tok_s, bytes_per_token, bandwidth_gb_s, decode_efficiency")
    boolean json;

    @Override
    public Integer call() throws Exception {
        positive("--prompt", prompt);
        positive("--gen", gen);
        positive("--batch", batch);
        positive("--batch-prompt", batchPrompt);
        positive("--repeats", repeats);
        positive("--probe-mib", probeMib);
        if (threads != null) {
            positive("--threads", threads);
            ComputePool.setThreads(threads);
        }
        int nThreads = ComputePool.shared().threads();
        // The probe runs first, in a JVM that has not run a model yet: measured after a MoE model it
        // read 8 GB/s instead of 27 (the Vector API's shared internals had seen other segment kinds).
        progress("bandwidth probe (" + nThreads + " threads, " + probeMib + " MiB)");
        double bandwidth = BandwidthProbe.measure(nThreads, (long) probeMib << 20, 10);
        try (Model model = modelOptions.load()) {
            ModelConfig c = model.config();
            int longest = Math.max(prompt, batchPrompt) + gen;
            if (longest > c.contextLength()) {
                throw new BadInputException("--prompt/--batch-prompt + --gen = " + longest
                        + " tokens exceeds the model's context length " + c.contextLength());
            }
            Runner run = new Runner(model);
            progress("warm-up (JIT)");
            run.prefill(Math.min(prompt, 32));
            run.decode(Math.min(prompt, 32), Math.min(gen, 4));
            double[] prefill = new double[repeats];
            double[] decode = new double[repeats];
            double[] batched = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                progress("prefill " + (i + 1) + "/" + repeats);
                prefill[i] = run.prefill(prompt);
            }
            for (int i = 0; i < repeats; i++) {
                progress("decode " + (i + 1) + "/" + repeats);
                decode[i] = run.decode(prompt, gen);
            }
            for (int i = 0; i < repeats; i++) {
                progress("batched decode x" + batch + " " + (i + 1) + "/" + repeats);
                batched[i] = run.batchedDecode(batch, batchPrompt, gen);
            }
            if (profile) {
                progress("profile");
                profileSteps(model, run);
            }
            long bytesPerToken = model.bytesPerToken();
            long residentPerToken = model.residentBytesPerToken();
            double decodeTokS = median(decode);
            double efficiency = bytesPerToken * decodeTokS / (bandwidth * 1e9);
            System.out.printf(Locale.ROOT, "model            %s (%s, %d layers, dim %d, vocab %d)%n",
                    modelOptions.model, c.arch(), c.layerCount(), c.dim(), c.vocabSize());
            System.out.printf(Locale.ROOT, "threads          %d%n", nThreads);
            System.out.printf(Locale.ROOT, "prefill          %.2f tok/s (%d tokens in one forward; median of %d)%n", median(prefill), prompt, repeats);
            System.out.printf(Locale.ROOT, "decode           %.2f tok/s (%d tokens after a %d-token prompt)%n", decodeTokS, gen, prompt);
            System.out.printf(Locale.ROOT, "batched decode   %.2f tok/s (%d sequences x %d tokens)%n", median(batched), batch, gen);
            System.out.printf(Locale.ROOT, "bytes/token      %d (%.1f MB of weights per decoded token, in the model's format)%n", bytesPerToken, bytesPerToken / 1e6);
            System.out.printf(Locale.ROOT, "held bytes/token %d (%.1f MB as held in memory: f32 block scales)%n", residentPerToken, residentPerToken / 1e6);
            KvPool pool = model.kvPool();
            long kvPerToken = pool.bytesPerToken();
            long kvPerTokenF32 = pool.bytesPerToken(KvType.F32);
            System.out.printf(Locale.ROOT, "kv cache         %s: %d bytes/position (%.4fx of f32's %d); the decode cache held"
                    + " %d bytes for %d positions (KvCache.bytes, whole 16-position pages)%n", pool.type().flag(),
                    kvPerToken, (double) kvPerToken / kvPerTokenF32, kvPerTokenF32, run.cacheBytes, run.cachePositions);
            System.out.printf(Locale.ROOT, "bandwidth        %.2f GB/s (BandwidthProbe, %d threads)%n", bandwidth, nThreads);
            System.out.printf(Locale.ROOT, "decode eff.      %.3f (bytes/token x decode tok/s / bandwidth)%n", efficiency);
            if (json) {
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = om.createObjectNode();
                o.put("prefill_tok_s", median(prefill));
                o.put("decode_tok_s", decodeTokS);
                o.put("batch", batch);
                o.put("batch_decode_tok_s", median(batched));
                o.put("bytes_per_token", bytesPerToken);
                o.put("resident_bytes_per_token", residentPerToken);
                o.put("bandwidth_gb_s", bandwidth);
                o.put("decode_efficiency", efficiency);
                o.put("kv_type", pool.type().flag());
                o.put("kv_bytes_per_token", kvPerToken);
                o.put("kv_ratio_to_f32", (double) kvPerToken / kvPerTokenF32);
                o.put("threads", nThreads);
                o.put("prompt", prompt);
                o.put("gen", gen);
                System.out.println(om.writeValueAsString(o));
            }
        }
        return 0;
    }

    /**
     * Separate runs with the step timers on, so that the headline numbers above carry no timing
     * overhead: milliseconds of one prefill of {@code --prompt} tokens, then per decode step, one
     * sequence and the batch, by layer step.
     */
    private void profileSteps(Model model, Runner run) {
        StepProfile p = new StepProfile();
        model.profile(p);
        run.profile = p;
        try {
            p.reset();
            run.prefill(prompt);
            Map<StepProfile.Phase, Long> pre = p.nanos();
            p.reset();
            run.decode(prompt, gen);
            Map<StepProfile.Phase, Long> single = p.nanos();
            p.reset();
            run.batchedDecode(batch, batchPrompt, gen);
            Map<StepProfile.Phase, Long> batched = p.nanos();
            System.out.printf(Locale.ROOT, "profile          ms per prefill of %d tokens | per decode step: 1 sequence | %d sequences%n",
                    prompt, batch);
            long tp = 0;
            long t1 = 0;
            long tb = 0;
            for (StepProfile.Phase ph : StepProfile.Phase.values()) {
                long f = pre.get(ph);
                long a = single.get(ph);
                long b = batched.get(ph);
                tp += f;
                t1 += a;
                tb += b;
                if (f + a + b > 0) {
                    System.out.printf(Locale.ROOT, "  %-32s %8.2f | %8.2f | %8.2f%n", ph.label(), f / 1e6, a / 1e6 / gen, b / 1e6 / gen);
                }
            }
            System.out.printf(Locale.ROOT, "  %-32s %8.2f | %8.2f | %8.2f%n", "total (forward + head)", tp / 1e6, t1 / 1e6 / gen, tb / 1e6 / gen);
        } finally {
            model.profile(null);
            run.profile = null;
        }
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new BadInputException(option + " must be at least 1, got " + value);
        }
    }

    private static void progress(String what) {
        System.err.println("bench: " + what);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /** The measurements, with buffers reused across runs. */
    private static final class Runner {
        private final Model model;
        private final int dim;
        private final int vocab;
        private final float[] logits;
        private final Batch batch = new Batch();
        /** Reset when the timed part of a measurement starts, so that it holds only the timed steps. */
        StepProfile profile;
        /** KvCache.bytes() and length of the last decode measurement's cache, at its end. */
        long cacheBytes;
        int cachePositions;

        Runner(Model model) {
            this.model = model;
            this.dim = model.config().dim();
            this.vocab = model.config().vocabSize();
            this.logits = new float[vocab];
        }

        /** Synthetic prompt: spread over the vocabulary, clear of the low special-token ids. */
        int[] promptTokens(int n, int seq) {
            int[] t = new int[n];
            int span = Math.max(1, vocab - 300);
            for (int i = 0; i < n; i++) {
                t[i] = Math.min(vocab - 1, 300 + (int) ((i * 7919L + seq * 104729L) % span));
            }
            return t;
        }

        /** Tokens/s of one forward over n prompt tokens plus the last row's logits. */
        double prefill(int n) {
            KvCache cache = model.newCache();
            float[] x = new float[n * dim];
            int[] prompt = promptTokens(n, 0);
            model.embed(prompt, 0, n, x);
            batch.clear();
            batch.add(cache, prompt, 0, n);
            long t0 = System.nanoTime();
            model.forward(batch, x);
            model.logits(x, n - 1, logits);
            double tokS = n / seconds(t0);
            cache.free();
            return tokS;
        }

        /** Tokens/s of g greedy decode steps after an untimed prefill of p tokens. */
        double decode(int p, int g) {
            KvCache cache = model.newCache();
            float[] x = new float[Math.max(p, 1) * dim];
            int[] prompt = promptTokens(p, 0);
            model.embed(prompt, 0, p, x);
            batch.clear();
            batch.add(cache, prompt, 0, p);
            model.forward(batch, x);
            model.logits(x, p - 1, logits);
            int[] next = {argmax(logits, 0)};
            if (profile != null) {
                profile.reset();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < g; i++) {
                model.embed(next, 0, 1, x);
                batch.clear();
                batch.add(cache, next, 0, 1);
                model.forward(batch, x);
                model.logits(x, 0, logits);
                next[0] = argmax(logits, 0);
            }
            double tokS = g / seconds(t0);
            cacheBytes = cache.bytes();
            cachePositions = cache.length();
            cache.free();
            return tokS;
        }

        /** Tokens/s (all sequences) of g steps decoding b sequences together, after an untimed batched prefill. */
        double batchedDecode(int b, int p, int g) {
            KvCache[] caches = new KvCache[b];
            int[] prompts = new int[b * p];
            batch.clear();
            for (int s = 0; s < b; s++) {
                caches[s] = model.newCache();
                System.arraycopy(promptTokens(p, s), 0, prompts, s * p, p);
                batch.add(caches[s], prompts, s * p, p);
            }
            float[] x = new float[b * p * dim];
            model.embed(prompts, 0, b * p, x);
            model.forward(batch, x);
            int[] next = new int[b];
            int[] rows = new int[b];
            float[] all = new float[b * vocab];
            for (int s = 0; s < b; s++) {
                rows[s] = s * p + p - 1;
            }
            model.logits(x, rows, b, all);
            for (int s = 0; s < b; s++) {
                next[s] = argmax(all, s);
                rows[s] = s;
            }
            if (profile != null) {
                profile.reset();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < g; i++) {
                model.embed(next, 0, b, x);
                batch.clear();
                for (int s = 0; s < b; s++) {
                    batch.add(caches[s], next, s, 1);
                }
                model.forward(batch, x);
                // One pass of the output head for all b rows, as a pipeline's last stage does.
                model.logits(x, rows, b, all);
                for (int s = 0; s < b; s++) {
                    next[s] = argmax(all, s);
                }
            }
            double tokS = (double) b * g / seconds(t0);
            for (KvCache c : caches) {
                c.free();
            }
            return tokS;
        }

        private static double seconds(long t0) {
            return (System.nanoTime() - t0) / 1e9;
        }

        /** Greedy pick in row {@code row} of [rows][vocab] logits. */
        private int argmax(float[] v, int row) {
            return Sampler.argmax(v, row * vocab, vocab);
        }
    }
}
