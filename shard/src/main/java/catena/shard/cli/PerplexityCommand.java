package catena.shard.cli;

import catena.shard.eval.ChunkPlan;
import catena.shard.eval.ChunkScorer;
import catena.shard.eval.Evaluator;
import catena.shard.eval.KlStats;
import catena.shard.eval.LogProbReader;
import catena.shard.eval.LogProbWriter;
import catena.shard.eval.NllStats;
import catena.shard.eval.Quantiles;
import catena.shard.model.Model;
import catena.shard.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code perplexity}: llama-perplexity's estimate over a text, or its KL-divergence mode against a saved base run. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a model over a text by llama.cpp's llama-perplexity method (whole text tokenized, "
                + "cut into chunks of --ctx tokens with BOS first, each scored on its second half), so the numbers "
                + "compare. Progress goes to stderr; the estimate to stdout as "
                + "\"Final estimate: PPL = %%.4f +/- %%.5f\".",
            "With --save-logits the run's log-probabilities are saved; a later run with --kl-base on that file "
                + "reports the KL divergence of this model from that base (llama-perplexity --kl-divergence)."})
final class PerplexityCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "text file (UTF-8; one trailing newline is dropped, as llama.cpp's -f does)")
        Path file;

        @Option(names = "--kl-base", paramLabel = "FILE", description = "KL-divergence mode: a base run saved with --save-logits (its tokens, ctx and chunks are used)")
        Path klBase;
    }

    @Option(names = {"-c", "--ctx"}, defaultValue = "0", description = "tokens per chunk; 0 = the model's context length (default ${DEFAULT-VALUE})")
    int ctx;

    @Option(names = "--chunks", defaultValue = "-1", description = "most chunks to score; -1 = all (default ${DEFAULT-VALUE})")
    int chunks;

    @Option(names = "--save-logits", paramLabel = "FILE", description = "save the scored rows' log-probabilities as a base for --kl-base")
    Path saveLogits;

    @Option(names = "--json", description = "end with one JSON line {\"ppl\":...,\"ppl_error\":...,\"chunks\":...,\"ctx\":...} (KL mode: kld_mean, kld_error, same_top, ppl_base, ...)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (chunks == 0 || chunks < -1) {
            throw new BadInputException("--chunks=" + chunks + ", expected a positive count or -1 for all");
        }
        if (ctx < 0) {
            throw new BadInputException("--ctx=" + ctx + ", expected 0 (the model's) or a token count");
        }
        if (saveLogits != null && input.klBase != null) {
            throw new BadInputException("--save-logits saves a base run; it cannot be combined with --kl-base");
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = System.err;
        try (Model model = modelOptions.load()) {
            Tokenizer tokenizer = Tokenizer.fromGguf(model.metadata());
            int bos = tokenizer.addsBos() ? tokenizer.bos() : -1;
            long started = System.nanoTime();
            Evaluator.Progress progress = (c, n, ppl) -> {
                if (c == 0) {
                    // llama.cpp's estimate after the first pass: worth knowing before a long run
                    double perPass = (System.nanoTime() - started) / 1e9;
                    err.printf(Locale.ROOT, "perplexity: %.2f seconds per pass - ETA %.2f minutes%n", perPass,
                            perPass * (n - 1) / 60);
                }
                err.printf(Locale.ROOT, "[%d]%.4f,", c + 1, ppl);
                if (c + 1 == n) {
                    err.println();
                }
                err.flush();
            };
            ObjectNode o = new ObjectMapper().createObjectNode();
            if (input.klBase != null) {
                klDivergence(model, bos, progress, out, o);
            } else {
                perplexity(model, tokenizer, bos, progress, out, o);
            }
            if (json) {
                out.println(new ObjectMapper().writeValueAsString(o));
            }
        }
        return 0;
    }

    private void perplexity(Model model, Tokenizer tokenizer, int bos, Evaluator.Progress progress, PrintStream out,
                            ObjectNode o) throws Exception {
        if (!Files.isRegularFile(input.file)) {
            throw new BadInputException("no such text file: --file=" + input.file);
        }
        String text = Files.readString(input.file, StandardCharsets.UTF_8);
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        int[] tokens = tokenizer.encode(text, true, false);
        int n = ctx == 0 ? model.config().contextLength() : ctx;
        ChunkPlan plan = ChunkPlan.of(tokens.length, n, chunks);
        System.err.printf(Locale.ROOT, "perplexity: %d tokens, %d chunks of %d (%d scored per chunk)%n",
                tokens.length, plan.chunks(), plan.ctx(), plan.scoredPerChunk());
        ChunkScorer scorer = new ChunkScorer(model, plan, bos);
        NllStats stats;
        if (saveLogits != null) {
            try (LogProbWriter w = new LogProbWriter(saveLogits, plan, scorer.vocab(), tokens)) {
                stats = Evaluator.perplexity(scorer, plan, tokens, w, progress);
            }
        } else {
            stats = Evaluator.perplexity(scorer, plan, tokens, null, progress);
        }
        out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", stats.ppl(), stats.pplError());
        o.put("ppl", stats.ppl());
        o.put("ppl_error", stats.pplError());
        o.put("chunks", plan.chunks());
        o.put("ctx", plan.ctx());
        o.put("tokens", tokens.length);
        o.put("scored", stats.count());
    }

    private void klDivergence(Model model, int bos, Evaluator.Progress progress, PrintStream out, ObjectNode o)
            throws Exception {
        if (!Files.isRegularFile(input.klBase)) {
            throw new BadInputException("no such base file: --kl-base=" + input.klBase);
        }
        try (LogProbReader base = new LogProbReader(input.klBase)) {
            ChunkPlan saved = base.plan();
            if (ctx != 0 && ctx != saved.ctx()) {
                throw new BadInputException("--ctx=" + ctx + ", expected the base run's ctx=" + saved.ctx()
                        + " (or leave it out)");
            }
            ChunkPlan plan = new ChunkPlan(saved.ctx(), chunks > 0 ? Math.min(chunks, saved.chunks()) : saved.chunks());
            System.err.printf(Locale.ROOT, "kl-divergence: %d chunks of %d against %s%n", plan.chunks(), plan.ctx(),
                    input.klBase);
            KlStats s = Evaluator.klDivergence(new ChunkScorer(model, plan, bos), plan, base, progress);
            print(s, out);
            KlStats.Estimate kld = s.kld();
            KlStats.Estimate top = s.sameTop();
            KlStats.Estimate ratio = s.lnPplRatio();
            double[] sorted = s.sortedKlds();
            o.put("ppl", s.ppl().value());
            o.put("ppl_error", s.ppl().error());
            o.put("ppl_base", s.pplBase().value());
            o.put("ppl_base_error", s.pplBase().error());
            o.put("ln_ppl_ratio", ratio.value());
            o.put("ln_ppl_ratio_error", ratio.error());
            o.put("kld_mean", kld.value());
            o.put("kld_error", kld.error());
            o.put("kld_median", Quantiles.median(sorted));
            o.put("kld_p99", Quantiles.percentile(sorted, 0.99));
            o.put("kld_p90", Quantiles.percentile(sorted, 0.90));
            o.put("kld_max", sorted[sorted.length - 1]);
            o.put("same_top", top.value());
            o.put("same_top_error", top.error());
            o.put("chunks", plan.chunks());
            o.put("ctx", plan.ctx());
            o.put("scored", s.count());
        }
    }

    /** llama.cpp's KL-divergence report (its layout, its labels). */
    private static void print(KlStats s, PrintStream out) {
        KlStats.Estimate ppl = s.ppl();
        KlStats.Estimate base = s.pplBase();
        KlStats.Estimate ratio = s.lnPplRatio();
        double r = Math.exp(ratio.value());
        out.println("====== Perplexity statistics ======");
        out.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", ppl.value(), ppl.error());
        out.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", base.value(), base.error());
        out.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100 * s.lnPplCorrelation());
        out.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", ratio.value(), ratio.error());
        out.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", r, r * ratio.error());
        out.println();
        double[] k = s.sortedKlds();
        KlStats.Estimate kld = s.kld();
        out.println("====== KL divergence statistics ======");
        out.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", kld.value(), kld.error());
        out.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", k[k.length - 1]);
        double[] high = {0.999, 0.99, 0.95, 0.90};
        for (double f : high) {
            out.printf(Locale.ROOT, "%4.1f%%   KLD: %10.6f%n", 100 * f, Quantiles.percentile(k, f));
        }
        out.printf(Locale.ROOT, "Median  KLD: %10.6f%n", Quantiles.median(k));
        double[] low = {0.10, 0.05, 0.01, 0.001};
        for (double f : low) {
            out.printf(Locale.ROOT, "%4.1f%%   KLD: %10.6f%n", 100 * f, Quantiles.percentile(k, f));
        }
        out.printf(Locale.ROOT, "Minimum KLD: %10.6f%n", k[0]);
        out.println();
        KlStats.Estimate top = s.sameTop();
        out.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100 * top.value(), 100 * top.error());
    }
}
