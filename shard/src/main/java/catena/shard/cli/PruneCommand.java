package catena.shard.cli;

import catena.shard.gguf.GgufFile;
import catena.shard.prune.Importance;
import catena.shard.prune.PruneOptions;
import catena.shard.prune.PruneReport;
import catena.shard.prune.Pruner;
import catena.shard.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code prune IN OUT --calibration TEXT}: structured pruning with an optional least-squares repair. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Structured pruning: remove FFN neurons, query heads of each KV group or whole layers, the least "
                + "important on a calibration text (FFN neuron: RMS activation x norm of its ffn_down column, or with --repair "
                + "the least error left after the refit (greedy Optimal Brain Surgeon); head: "
                + "mean output norm x norm of its attn_output slice; layer: 1 - mean cos(input, output)).",
            "--repair refits each pruned layer's ffn_down / attn_output by ridge least squares so the layer "
                + "reproduces the unpruned layer's output on the calibration activations."})
final class PruneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN.gguf", description = "source model")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "output file")
    Path out;

    @Option(names = "--calibration", required = true, paramLabel = "TEXT", description = "calibration text file (UTF-8; one trailing newline is dropped)")
    Path calibration;

    @Option(names = "--ffn", defaultValue = "0", paramLabel = "R", description = "fraction of FFN neurons to remove per layer (default ${DEFAULT-VALUE})")
    double ffn;

    @Option(names = "--heads", defaultValue = "0", paramLabel = "R", description = "fraction of the query heads of each KV group to remove (default ${DEFAULT-VALUE})")
    double heads;

    @Option(names = "--layers", defaultValue = "0", paramLabel = "K", description = "whole layers to remove (default ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--repair", description = "refit ffn_down / attn_output of pruned layers by ridge least squares")
    boolean repair;

    @Option(names = "--ridge", defaultValue = "1e-3", paramLabel = "ALPHA", description = "relative ridge regularization: lambda = ALPHA x mean diagonal of the kept inputs' Gram matrix (default ${DEFAULT-VALUE})")
    double ridge;

    @Option(names = "--multiple", defaultValue = "32", paramLabel = "M", description = "round FFN widths to a multiple of M, so matrices can stay Q8_0 (default ${DEFAULT-VALUE}; 1 = exact ratio)")
    int multiple;

    @Option(names = "--importance", defaultValue = "auto", paramLabel = "MEASURE", description = "FFN neuron score: auto (default: obs with --repair, rms without), rms (root mean square of h), activation (mean |h|) or weight (norm of the ffn_up row), each x norm of the ffn_down column; or obs (greedy Optimal Brain Surgeon: the neurons whose removal leaves the least error after the least-squares refit of the rest, on the calibration Gram matrix)")
    String importance;

    @Option(names = "--repair-from", defaultValue = "auto", paramLabel = "WHO", description = "FFN repair: student (the pruned model's own activations, layer by layer, fitted to the teacher's layer outputs; not for models with a post-FFN norm, such as Gemma 2-4), teacher (the teacher's activations, fitted to its FFN outputs) or auto (default: student where it applies, else teacher)")
    String repairFrom;

    @Option(names = "--repair-attn", defaultValue = "off", paramLabel = "WHEN", description = "with --repair from the student: also refit attn_output of every layer whose input the pruning changed (or whose heads are pruned) so the residual after attention matches the teacher's: on, or off (default: it did not measure better on held-out text at 12.5/25%% FFN; not for models with a post-attention norm)")
    String repairAttn;

    @Option(names = "--sample", defaultValue = "0", paramLabel = "N", description = "also calibrate on N tokens sampled from the model itself (temperature 1, from BOS; default ${DEFAULT-VALUE}); a few thousand text tokens overfit the --repair refit: 32768 is what the README measured best for its time")
    int sample;

    @Option(names = "--seed", defaultValue = "1", description = "seed of --sample (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = {"-c", "--ctx"}, defaultValue = "0", description = "calibration chunk length in tokens; 0 = the model's context length")
    int ctx;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(in)) {
            throw new BadInputException("no such model file: " + in);
        }
        if (!Files.isRegularFile(calibration)) {
            throw new BadInputException("no such text file: --calibration=" + calibration);
        }
        if (ctx < 0) {
            throw new BadInputException("--ctx=" + ctx + ", expected 0 (the model's) or a token count");
        }
        Importance.Measure measure = switch (importance.toLowerCase(Locale.ROOT)) {
            case "auto" -> Importance.defaultMeasure(repair);
            case "activation" -> Importance.Measure.ACTIVATION;
            case "weight" -> Importance.Measure.WEIGHT;
            case "rms" -> Importance.Measure.RMS;
            case "obs" -> Importance.Measure.OBS;
            default -> throw new BadInputException("--importance=" + importance + ", expected auto, activation, rms, weight or obs");
        };
        boolean sequential = switch (repairFrom.toLowerCase(Locale.ROOT)) {
            case "student" -> true;
            case "teacher" -> false;
            case "auto" -> {
                String obstacle = repair ? Pruner.sequentialRepairObstacle(in) : null;
                if (obstacle != null) {
                    System.out.println("repair: from the teacher (" + obstacle + " makes a layer's output non-linear"
                            + " in ffn_down, which the student-side refit needs)");
                }
                yield obstacle == null;
            }
            default -> throw new BadInputException("--repair-from=" + repairFrom + ", expected auto, student or"
                    + " teacher");
        };
        boolean attention = switch (repairAttn.toLowerCase(Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new BadInputException("--repair-attn=" + repairAttn + ", expected on or off");
        };
        PruneOptions o;
        try {
            o = new PruneOptions(ffn, heads, layers, repair, ridge, multiple, measure, ctx == 0 ? Integer.MAX_VALUE : ctx,
                    sample, seed, sequential, attention);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        String text = Files.readString(calibration, StandardCharsets.UTF_8);
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(in)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        int[] tokens = tokenizer.encode(text, true, false);
        int bos = tokenizer.addsBos() ? tokenizer.bos() : -1;
        long start = System.nanoTime();
        PruneReport r = Pruner.prune(in, out, tokens, bos, o);
        System.out.printf(Locale.ROOT, "calibration: %d tokens (%d from %s, %d sampled from the model, seed %d)%n",
                r.calibrationTokens(), tokens.length, calibration, r.calibrationTokens() - tokens.length, seed);
        if (repair) {
            System.out.printf(Locale.ROOT, "repair: ridge alpha=%g (lambda = alpha x mean diagonal of the kept Gram block)%n",
                    ridge);
            if (attention) {
                System.out.println("repair: attn_output refitted in every layer whose input the pruning changed");
            }
        }
        System.out.println("layer  influence  ffn  heads  ffn_err(slice -> refit)  attn_err(slice -> refit)");
        for (int l = 0; l < r.ffnWidth().length; l++) {
            System.out.printf(Locale.ROOT, "%5d  %9.5f  %4s  %5s  %s  %s%n", l, r.layerInfluence()[l],
                    r.dropped()[l] ? "-" : Integer.toString(r.ffnWidth()[l]),
                    r.dropped()[l] ? "-" : Integer.toString(r.heads()[l]),
                    r.dropped()[l] ? "dropped" : errors(r.ffnErrorBefore()[l], r.ffnErrorAfter()[l]),
                    r.dropped()[l] ? "" : errors(r.attnErrorBefore()[l], r.attnErrorAfter()[l]));
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d bytes) in %.2f s%n", out, Files.size(out),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static String errors(double before, double after) {
        return Double.isNaN(before) ? "-" : String.format(Locale.ROOT, "%.5f -> %.5f", before, after);
    }
}
