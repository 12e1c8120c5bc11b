package catena.gateway.app;

import catena.gateway.bench.BenchRequest;
import catena.gateway.bench.GrpcLoadClient;
import catena.gateway.bench.PromptSet;
import catena.gateway.bench.RequestRecord;
import catena.gateway.bench.StallReport;
import catena.v1.GetModelInfoRequest;
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
 * {@code catena bench stall}: does a long prompt stall the streams already decoding? Starts
 * {@code --streams} short-prompt streams, sends one {@code --prompt-len} prompt {@code --after}
 * seconds later, and compares the streams' inter-token latency while it is prefilled with before.
 */
@Command(name = "stall", mixinStandardHelpOptions = true,
        description = "Measure how much a long prompt arriving mid-stream delays the tokens of streams already decoding.")
final class BenchStallCommand implements Callable<Integer> {
    @Mixin
    ClientConnection connection = new ClientConnection();

    @Option(names = "--target", description = "Server host:port (default: ${DEFAULT-VALUE})")
    String target = "127.0.0.1:50051";

    @Option(names = "--streams", description = "Streams decoding before the long prompt arrives (default: ${DEFAULT-VALUE})")
    int streams = 8;

    @Option(names = "--stream-prompt-len", description = "Prompt tokens of each stream (default: ${DEFAULT-VALUE})")
    int streamPromptLen = 16;

    @Option(names = "--output-len", description = "Tokens each stream generates; enough to outlast the long"
            + " prompt's prefill (default: ${DEFAULT-VALUE})")
    int outputLen = 512;

    @Option(names = "--prompt-len", description = "Tokens of the long prompt (default: ${DEFAULT-VALUE})")
    int promptLen = 2000;

    @Option(names = "--after", description = "Seconds after the streams start that the long prompt is sent"
            + " (default: ${DEFAULT-VALUE})")
    double after = 5;

    @Option(names = "--seed", description = "Seed of the prompts (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--timeout", description = "Seconds one request may take (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 600;

    @Option(names = "--json", description = "End with one JSON line of the figures")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (streams < 1 || streamPromptLen < 1 || outputLen < 2 || promptLen < 1 || after <= 0) {
            throw new IllegalArgumentException("--streams=" + streams + ", --stream-prompt-len=" + streamPromptLen
                    + ", --output-len=" + outputLen + ", --prompt-len=" + promptLen + ", --after=" + after
                    + ": expected >= 1, >= 1, >= 2, >= 1, > 0");
        }
        ManagedChannel channel = connection.openForNonBlockingCallbacks(target);
        try {
            ModelInfo info = InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance());
            int context = info.getContextLength();
            if (promptLen + 1 > context || streamPromptLen + outputLen > context) {
                throw new IllegalArgumentException("--prompt-len=" + promptLen + " or --stream-prompt-len="
                        + streamPromptLen + " + --output-len=" + outputLen + " exceeds the model's context of "
                        + context + " tokens");
            }
            int vocab = info.getVocabSize();
            int low = Math.min(100, vocab / 2);
            List<BenchRequest> requests = new ArrayList<>();
            for (int[] p : PromptSet.make(streams, streamPromptLen, 0, low, vocab, seed)) {
                requests.add(new BenchRequest(p, outputLen, 0, seed));
            }
            int[] longPrompt = PromptSet.make(1, promptLen, 0, low, vocab, seed + 1).getFirst();
            requests.add(new BenchRequest(longPrompt, 1, 0, seed));
            long[] sendAt = new long[streams + 1];
            sendAt[streams] = (long) (after * 1e9);
            GrpcLoadClient client = new GrpcLoadClient(channel, streams + 1, timeoutSeconds);
            // One short request first, so the JIT has compiled the serving path.
            client.run(requests.subList(0, 1), new long[1], null, "warm-up");
            List<RequestRecord> records = client.run(requests, sendAt, System.err, "bench stall");
            StallReport report = new StallReport(records.subList(0, streams), records.get(streams));
            System.out.printf("============ Prefill Stall Result ============%n");
            System.out.printf("%-40s %s%n", "Target:", target + " (" + info.getArchitecture() + ")");
            System.out.printf("%-40s %s%n", "Streams x output / long prompt:", streams + " x " + outputLen + " / "
                    + promptLen + " tokens at " + after + " s");
            System.out.print(report.table());
            if (json) {
                System.out.println(new ObjectMapper().writeValueAsString(report.figures()));
            }
            return 0;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
