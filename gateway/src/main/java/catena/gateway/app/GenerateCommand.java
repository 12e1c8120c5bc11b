package catena.gateway.app;

import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenPrompt;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code catena generate}: streams a completion from a Catena gateway to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Stream a completion from a Catena server (catena.v1.Inference/Generate).")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ClientConnection connection = new ClientConnection();

    @Option(names = "--target", description = "Server host:port (default: ${DEFAULT-VALUE})")
    String target = "127.0.0.1:50051";

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "Prompt text (BOS added when the model asks)")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", paramLabel = "ID", description = "Prompt as token ids, e.g. 1,403,407")
    List<Integer> promptIds;

    @Option(names = "--max-tokens", description = "Tokens to generate at most; 0 = server default (${DEFAULT-VALUE})")
    int maxTokens = 0;

    @Option(names = "--temperature", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature = 0f;

    @Option(names = "--top-k", description = "0 = off (default: ${DEFAULT-VALUE})")
    int topK = 0;

    @Option(names = "--top-p", description = "Nucleus mass in (0, 1]")
    Float topP;

    @Option(names = "--min-p", description = "In [0, 1]; 0 = off (default: ${DEFAULT-VALUE})")
    float minP = 0f;

    @Option(names = "--repetition-penalty", description = "> 0; 1 = off")
    Float repetitionPenalty;

    @Option(names = "--seed", description = "Sampler seed (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--stop", description = "Stop before this string (repeatable)")
    List<String> stop = List.of();

    @Option(names = "--json", description = "Print only one JSON line at the end:"
            + " {\"tokens\":[...],\"text\":\"...\",\"finish_reason\":\"...\"}")
    boolean json;

    @Option(names = "--concurrency", description = "Run the request as N concurrent streams and report tokens/s on"
            + " stderr (load test; prints the first stream's text)")
    Integer concurrency;

    @Option(names = "--timeout", description = "Deadline of each call in seconds (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 600;

    @Override
    public Integer call() throws Exception {
        GenerateRequest request = request();
        if (concurrency != null && concurrency < 1) {
            throw new IllegalArgumentException("--concurrency=" + concurrency + ", expected >= 1");
        }
        ManagedChannel channel = connection.open(target);
        try {
            var stub = InferenceGrpc.newBlockingStub(channel);
            if (concurrency == null) {
                Result r = stream(stub, request, json ? null
                        : new PrintStream(System.out, true, StandardCharsets.UTF_8));
                System.out.println(json ? toJson(r) : "");
                return 0;
            }
            return load(stub, request);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private GenerateRequest request() {
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setMaxTokens(maxTokens).setTemperature(temperature)
                .setTopK(topK).setMinP(minP).setSeed(seed).addAllStop(stop);
        if (topP != null) {
            b.setTopP(topP);
        }
        if (repetitionPenalty != null) {
            b.setRepetitionPenalty(repetitionPenalty);
        }
        if ((prompt == null) == (promptIds == null)) {
            throw new IllegalArgumentException("give exactly one prompt: PROMPT text or --prompt-ids");
        }
        if (prompt != null) {
            b.setText(prompt);
        } else {
            b.setTokens(TokenPrompt.newBuilder().addAllIds(promptIds));
        }
        return b.build();
    }

    /** {@code ttftNanos}: from sending the request to the first response that carries tokens. */
    private record Result(List<Integer> tokens, String text, String finishReason, long ttftNanos) {
    }

    private Result stream(InferenceGrpc.InferenceBlockingStub stub, GenerateRequest request, PrintStream echo) {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        String finish = "";
        long t0 = System.nanoTime();
        long ttft = -1;
        Iterator<GenerateResponse> it = stub.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS).generate(request);
        while (it.hasNext()) {
            GenerateResponse r = it.next();
            if (ttft < 0 && r.getTokenIdsCount() > 0) {
                ttft = System.nanoTime() - t0;
            }
            tokens.addAll(r.getTokenIdsList());
            text.append(r.getText());
            if (echo != null) {
                echo.print(r.getText());
                echo.flush();
            }
            if (r.hasUsage()) {
                finish = r.getFinishReason().name().replace("FINISH_REASON_", "").toLowerCase(java.util.Locale.ROOT);
            }
        }
        return new Result(tokens, text.toString(), finish, ttft);
    }

    private static String toJson(Result r) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        r.tokens().forEach(o.putArray("tokens")::add);
        o.put("text", r.text());
        o.put("finish_reason", r.finishReason());
        o.put("ttft_ms", r.ttftNanos() < 0 ? -1 : r.ttftNanos() / 1e6);
        return o.toString();
    }

    /** N identical streams at once; reports completion tokens/s over the wall time of all of them. */
    private int load(InferenceGrpc.InferenceBlockingStub stub, GenerateRequest request) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        try {
            long t0 = System.nanoTime();
            List<Future<Result>> runs = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                runs.add(pool.submit(() -> stream(stub, request, null)));
            }
            long total = 0;
            long ttftMax = 0;
            Result first = null;
            for (Future<Result> f : runs) {
                Result r;
                try {
                    r = f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof StatusRuntimeException s ? s : e;
                }
                first = first == null ? r : first;
                total += r.tokens().size();
                ttftMax = Math.max(ttftMax, r.ttftNanos());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.err.printf(java.util.Locale.ROOT, "catena: %d streams, %d tokens in %.2f s: %.1f tokens/s"
                    + " (slowest first token %.0f ms)%n", concurrency, total, seconds, total / seconds, ttftMax / 1e6);
            System.out.println(json ? toJson(first) : first.text());
            return 0;
        } finally {
            pool.shutdownNow();
        }
    }
}
