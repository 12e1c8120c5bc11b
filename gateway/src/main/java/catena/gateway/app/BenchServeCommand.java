package catena.gateway.app;

import catena.gateway.bench.ArrivalPlan;
import catena.gateway.bench.Goodput;
import catena.gateway.bench.BenchRequest;
import catena.gateway.bench.GrpcLoadClient;
import catena.gateway.bench.LoadClient;
import catena.gateway.bench.OpenAiLoadClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import catena.gateway.bench.PromptSet;
import catena.gateway.bench.RequestRecord;
import catena.gateway.bench.ServeReport;
import catena.gateway.bench.PrefixCounts;
import catena.v1.GetModelInfoRequest;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code catena bench serve}: the serving benchmark. Prompts of random token ids (an optional
 * shared prefix), sent at a request rate (gamma arrivals) and/or a concurrency limit; reports TTFT,
 * TPOT, ITL and end-to-end latency (mean, median, p99), throughput and goodput.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load a running server with prompts and report serving latency and throughput.")
final class BenchServeCommand implements Callable<Integer> {
    @Mixin
    ClientConnection connection = new ClientConnection();

    @Option(names = "--target", description = "Server host:port, or with --api openai its base URL"
            + " (http[s]://host:port/v1; host:port means http://host:port/v1) (default: ${DEFAULT-VALUE})")
    String target = "127.0.0.1:50051";

    @Option(names = "--api", description = "Protocol: grpc (Catena's Generate) or openai (POST /v1/completions,"
            + " streamed; any OpenAI-compatible server, llama-server too) (default: ${DEFAULT-VALUE})")
    String api = "grpc";

    @Option(names = "--model", description = "Model name sent with --api openai (default: the first of GET /v1/models)")
    String model;

    @Option(names = "--max-token-id", description = "With --api openai, prompts draw token ids below this (it"
            + " must not exceed the model's vocabulary, which the OpenAI API does not tell) (default: ${DEFAULT-VALUE})")
    int maxTokenId = 1000;

    @Option(names = "--concurrency", description = "Requests in flight at most (default: --num-prompts)")
    Integer concurrency;

    @Option(names = "--request-rate", description = "Requests per second (gamma arrivals), or inf (default: ${DEFAULT-VALUE})")
    String requestRate = "inf";

    @Option(names = "--burstiness", description = "Gamma shape of arrivals: 1 = Poisson, < 1 burstier (default: ${DEFAULT-VALUE})")
    double burstiness = 1.0;

    @Option(names = "--num-prompts", description = "Requests measured (default: ${DEFAULT-VALUE})")
    int numPrompts = 100;

    @Option(names = "--warmup-prompts", description = "Requests sent first and not measured (default: ${DEFAULT-VALUE})")
    int warmupPrompts = 0;

    @Option(names = "--input-len", description = "Prompt tokens per request (default: ${DEFAULT-VALUE})")
    int inputLen = 128;

    @Option(names = "--output-len", description = "Tokens generated per request at most (default: ${DEFAULT-VALUE})")
    int outputLen = 64;

    @Option(names = {"--prefix-len", "--system-prompt-tokens"}, description = "Leading prompt tokens shared by every request (default: ${DEFAULT-VALUE})")
    int prefixLen = 0;

    @Option(names = "--prefix-groups", description = "Distinct shared prefixes (system prompts), each used by as many"
            + " requests, in random order (default: ${DEFAULT-VALUE})")
    int prefixGroups = 1;

    @Option(names = "--temperature", description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature = 0f;

    @Option(names = "--seed", description = "Seed of prompts, arrivals and sampling (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--goodput", paramLabel = "ttft:MS,tpot:MS", description = "SLO for goodput (requests/s meeting it)")
    String goodput;

    @Option(names = "--timeout", description = "Seconds one request may take (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 600;

    @Option(names = "--json", description = "End with one JSON line of the figures")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!api.equals("grpc") && !api.equals("openai")) {
            throw new IllegalArgumentException("--api=" + api + ": expected grpc or openai");
        }
        if (numPrompts < 1 || warmupPrompts < 0) {
            throw new IllegalArgumentException("--num-prompts=" + numPrompts + ", --warmup-prompts=" + warmupPrompts
                    + ": expected >= 1 and >= 0");
        }
        if (outputLen < 1) {
            throw new IllegalArgumentException("--output-len=" + outputLen + ", expected >= 1");
        }
        int limit = concurrency == null ? numPrompts : concurrency;
        if (limit < 1) {
            throw new IllegalArgumentException("--concurrency=" + limit + ", expected >= 1");
        }
        double rate = requestRate.equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : parseRate(requestRate);
        Goodput slo = goodput == null ? Goodput.NONE : Goodput.parse(goodput);
        if (api.equals("openai")) {
            return openAi(limit, rate, slo);
        }
        ManagedChannel channel = connection.openForNonBlockingCallbacks(target);
        try {
            ModelInfo info = InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance());
            if (inputLen + outputLen > info.getContextLength()) {
                throw new IllegalArgumentException("--input-len=" + inputLen + " + --output-len=" + outputLen
                        + " exceeds the model's context of " + info.getContextLength() + " tokens");
            }
            int vocab = info.getVocabSize();
            int low = Math.min(100, vocab / 2);
            List<int[]> prompts = PromptSet.make(warmupPrompts + numPrompts, inputLen, prefixLen, prefixGroups, low,
                    vocab, seed);
            var stats = InferenceGrpc.newBlockingStub(channel);
            return measure(new GrpcLoadClient(channel, limit, timeoutSeconds), prompts, rate, slo, limit,
                    target + " (" + info.getArchitecture() + ", " + info.getStagesCount() + " stage(s) x "
                            + info.getReplicasCount() + " replica(s))",
                    () -> PrefixCounts.of(stats.withDeadlineAfter(30, TimeUnit.SECONDS)
                            .getPipelineStats(GetPipelineStatsRequest.getDefaultInstance())));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private int openAi(int limit, double rate, Goodput slo) throws Exception {
        String base = target.contains("://") ? target : "http://" + target + "/v1";
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30));
        if (connection.tlsCa != null) {
            hb.sslContext(connection.sslContext());
        }
        try (HttpClient http = hb.build()) {
            String name = model;
            if (name == null) {
                HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base.replaceAll("/+$", "") + "/models"));
                if (connection.apiKey != null && !connection.apiKey.isBlank()) {
                    rb.header("Authorization", "Bearer " + connection.apiKey.strip());
                }
                HttpResponse<String> models = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
                if (models.statusCode() != 200) {
                    throw new IllegalArgumentException("--target=" + target + ": GET /models answered HTTP "
                            + models.statusCode() + ": " + models.body());
                }
                name = new ObjectMapper().readTree(models.body()).path("data").path(0).path("id").asText();
            }
            int low = Math.min(100, maxTokenId / 2);
            List<int[]> prompts = PromptSet.make(warmupPrompts + numPrompts, inputLen, prefixLen, low, maxTokenId, seed);
            return measure(new OpenAiLoadClient(http, base, name, connection.apiKey, limit, timeoutSeconds), prompts,
                    rate, slo, limit, base + " (model " + name + ", OpenAI API)", null);
        }
    }

    /**
     * Runs the warm-up and the measured requests and prints the report; {@code prefixCounts}
     * (null: not available) reads the servers' prefix-cache counters, before and after both.
     */
    private int measure(LoadClient client, List<int[]> prompts, double rate, Goodput slo, int limit, String about,
                        java.util.function.Supplier<PrefixCounts> prefixCounts) throws Exception {
        PrefixCounts before = prefixCounts == null ? null : prefixCounts.get();
        if (warmupPrompts > 0) {
            client.run(requests(prompts.subList(0, warmupPrompts), 0), new long[warmupPrompts], System.err, "warm-up");
        }
        List<RequestRecord> records = client.run(requests(prompts.subList(warmupPrompts, prompts.size()),
                warmupPrompts), ArrivalPlan.times(numPrompts, rate, burstiness, seed), System.err, "bench serve");
        ServeReport report = new ServeReport(records, slo);
        System.out.printf("============ Serving Benchmark Result ============%n");
        System.out.printf("%-36s %s%n", "Target:", about);
        System.out.printf("%-36s %s%n", "Request rate / max concurrency:", requestRate + " / " + limit);
        System.out.print(report.table());
        var figures = report.figures();
        if (before != null) {
            // counted over the warm-up and the measured requests alike (both ran between the reads)
            PrefixCounts run = prefixCounts.get().minus(before);
            int requests = warmupPrompts + numPrompts;
            System.out.print(run.table(requests, prefixLen));
            figures.put("prefix_query_tokens", run.queryTokens());
            figures.put("prefix_hit_tokens", run.hitTokens());
            figures.put("prefix_shared_hit_rate", Math.round(run.prefixHitRate(requests, prefixLen) * 1000) / 1000.0);
            figures.put("prefix_misses", run.misses());
        }
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(figures));
        }
        return report.failed() == 0 ? 0 : 1;
    }

    private List<BenchRequest> requests(List<int[]> prompts, int firstIndex) {
        List<BenchRequest> out = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            out.add(new BenchRequest(prompts.get(i), outputLen, temperature, seed + firstIndex + i));
        }
        return out;
    }

    private static double parseRate(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--request-rate=" + s + ", expected a number of requests/s or inf");
        }
    }
}
