package catena.gateway.app;

import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenPrompt;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code catena generate}: a streaming gRPC client of catena.v1.Inference/Generate. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Stream a completion from a catena server.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--target", defaultValue = "127.0.0.1:50051", description = "Server host:port (default ${DEFAULT-VALUE}).")
    String target;

    @Parameters(arity = "0..1", description = "The prompt text.")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", description = "The prompt as token ids (instead of text).")
    List<Integer> promptIds;

    @Option(names = "--max-tokens", defaultValue = "0", description = "Tokens to generate at most (0 = server default).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "1 = off.")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "0 = off.")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "1 = off.")
    float repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "Sampler seed.")
    long seed;

    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--timeout", defaultValue = "600", description = "Deadline in seconds (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--json", description = "Print only one JSON line at the end: {\"tokens\":[...],\"text\":\"...\",\"finish_reason\":\"...\"}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setMaxTokens(maxTokens).setTemperature(temperature)
                .setTopK(topK).setTopP(topP).setMinP(minP).setRepetitionPenalty(repetitionPenalty).setSeed(seed)
                .addAllStop(stop);
        if (promptIds != null && !promptIds.isEmpty()) {
            b.setTokens(TokenPrompt.newBuilder().addAllIds(promptIds));
        } else if (prompt != null) {
            b.setText(prompt);
        } else {
            throw new IllegalArgumentException("give a prompt text or --prompt-ids");
        }
        ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        String finish = "";
        try {
            var it = InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS)
                    .generate(b.build());
            while (it.hasNext()) {
                GenerateResponse r = it.next();
                tokens.addAll(r.getTokenIdsList());
                text.append(r.getText());
                if (!json) {
                    out.print(r.getText());
                }
                if (r.hasUsage()) {
                    finish = r.getFinishReason().name().replace("FINISH_REASON_", "").toLowerCase(java.util.Locale.ROOT);
                }
            }
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            if (s.getCode() == Status.Code.INVALID_ARGUMENT) {
                throw new IllegalArgumentException(s.getDescription());
            }
            throw new IllegalStateException(s.getCode() + ": " + s.getDescription());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokens", tokens);
            m.put("text", text.toString());
            m.put("finish_reason", finish);
            out.println(new ObjectMapper().writeValueAsString(m));
        } else {
            out.println();
            System.err.println("[" + tokens.size() + " tokens, finish: " + finish + "]");
        }
        return 0;
    }
}
