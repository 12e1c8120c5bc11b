package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import catena.shard.gguf.GgmlType;
import catena.shard.synth.Presets;
import catena.shard.synth.Synth;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetPipelineStatsRequest;
import catena.v1.InferenceGrpc;
import catena.v1.PipelineStats;
import catena.v1.StageStats;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * KV memory as a budget under a container's limit: a worker JVM with the chart's flags (-Xmx2g,
 * ExitOnOutOfMemoryError) in a memory cgroup of {@code catena.pressure.limit} bytes serves a
 * gemma3-1b-shaped model with {@code --kv-memory auto}, and 64 requests with prompts near the
 * context limit arrive at once. Every request completes or gets RESOURCE_EXHAUSTED; the worker
 * lives; its peak RSS and the cgroup's peak stay under the limit, the kernel killed nothing; the
 * stage preempted sequences (the pressure was real), and every completed request's tokens equal
 * those of the same request run alone afterwards (an undisturbed run).
 *
 * <p>The model is gemma3-1b's shapes (26 layers, 1152 wide, 262144-token vocabulary) with a
 * 1,024-token context, so that 64 requests that fill it take minutes on 2 cores, not hours.
 * Prompts of 512 tokens ask for 512 more, so every sequence ends at the context limit: it is
 * admitted for its prompt plus a reserve and doubles while it decodes, and the early ones decode
 * while the later ones are still prefilled, so the memory runs out mid-stream and the youngest
 * are preempted. (With 768 + 256 the early ones finished before the last were prefilled, and
 * nothing was preempted.) A long
 * run: tagged {@code pressure}, excluded from the default suite; {@code .ci/kv-pressure} runs it.
 */
@Tag("pressure")
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class KvPressureIT {
    private static final long LIMIT = Long.getLong("catena.pressure.limit", 3840L << 20);
    private static final int CONTEXT = 1024;
    private static final int PROMPT = Integer.getInteger("catena.pressure.prompt", 512);
    private static final int OUTPUT = Integer.getInteger("catena.pressure.output", 512);
    private static final int REQUESTS = 64;
    private static final int MAX_WAITING = Integer.getInteger("catena.pressure.waiting", 8);

    /** What one request saw. */
    private record Outcome(int[] prompt, List<Integer> tokens, Status status) {
    }

    @Test
    void shouldCompleteOrRefuseEveryRequestWithinTheContainerLimit() throws Exception {
        assumeThat(MemoryCgroup.available()).as("needs root and a memory cgroup hierarchy").isTrue();
        Path model = Path.of("target/pressure/gemma3-1b-ctx" + CONTEXT + ".gguf");
        if (!Files.exists(model)) {
            Files.createDirectories(model.getParent());
            Synth.write(Presets.get("gemma3-1b").withContext(CONTEXT), GgmlType.Q8_0, model, 1, 0);
        }
        String path = model.toAbsolutePath().toString();
        int gatewayPekko = NodeProcess.freePortIn(20000, 25000);
        int workerPekko = NodeProcess.freePortIn(25000, 30000);
        int grpc = NodeProcess.freePort();
        String seeds = "127.0.0.1:" + gatewayPekko + ",127.0.0.1:" + workerPekko;
        try (MemoryCgroup cgroup = MemoryCgroup.create("catena-kv-pressure-" + ProcessHandle.current().pid(), LIMIT);
             NodeProcess gateway = NodeProcess.serve("pressure-gateway", "--role", "gateway", "--model", path,
                     "--stages", "1", "--replicas", "1", "--port", String.valueOf(grpc), "--pekko-port",
                     String.valueOf(gatewayPekko), "--seed-nodes", seeds, "--http-port", "-1");
             NodeProcess worker = NodeProcess.serveIn("pressure-worker", cgroup.wrapper(),
                     // The chart's worker flags (values.yaml jvm.baseOptions, worker.heap).
                     List.of("-Xmx2g", "-XX:+ExitOnOutOfMemoryError"), "--role", "worker", "--model", path,
                     "--pekko-port", String.valueOf(workerPekko), "--seed-nodes", seeds, "--kv-memory", "auto",
                     "--max-waiting", String.valueOf(MAX_WAITING))) {
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpc,
                    InsecureChannelCredentials.create()).build();
            try {
                await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    assertThat(worker.isAlive()).as("%s", worker.output()).isTrue();
                    return health(channel) == ServingStatus.SERVING;
                });
                RssWatch rss = new RssWatch(worker.pid());
                rss.start();
                List<Outcome> outcomes = fire(channel);
                rss.stop();

                int completed = 0;
                int refused = 0;
                for (Outcome o : outcomes) {
                    if (o.status().isOk()) {
                        completed++;
                        assertThat(o.tokens()).hasSizeBetween(1, OUTPUT);
                    } else {
                        assertThat(o.status().getCode()).as("%s", o.status()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        refused++;
                    }
                }
                // Why requests were refused, once per distinct reason: what a reader of the log needs first.
                outcomes.stream().filter(o -> !o.status().isOk())
                        .collect(java.util.stream.Collectors.groupingBy(o -> String.valueOf(o.status()),
                                java.util.stream.Collectors.counting()))
                        .forEach((reason, n) -> System.out.printf("kv-pressure: refused %d x %s%n", n, reason));
                StageStats stage = stats(channel);
                System.out.printf("kv-pressure: completed streams' lengths %s tokens (of %d asked)%n",
                        outcomes.stream().filter(o -> o.status().isOk()).mapToInt(o -> o.tokens().size())
                                .summaryStatistics(), OUTPUT);
                System.out.printf("kv-pressure: limit %d MiB; %d completed, %d RESOURCE_EXHAUSTED; KV %d blocks of 16"
                                + " tokens; preemptions %d; worker peak RSS %d MiB (sampled max %d MiB); cgroup peak"
                                + " %d MiB; oom kills %d%n", LIMIT >> 20, completed, refused, stage.getKvBlocksTotal(),
                        stage.getPreemptions(), rss.peakBytes() >> 20, rss.sampledMax() >> 20,
                        cgroup.peakBytes() >> 20, cgroup.oomKills());
                assertThat(worker.isAlive()).as("the worker lives: %s", worker.output()).isTrue();
                assertThat(cgroup.oomKills()).isZero();
                assertThat(rss.peakBytes()).isLessThan(LIMIT);
                assertThat(cgroup.peakBytes()).isLessThanOrEqualTo(LIMIT);
                assertThat(completed).isPositive();
                assertThat(stage.getPreemptions()).as("the KV memory ran out while decoding").isPositive();

                // Undisturbed runs: the completed requests again, in groups small enough that their
                // whole lengths fit the KV memory together, so none is preempted (tokens do not
                // depend on what else is batched; StageActorTest checks that exactly).
                long preemptedBefore = stage.getPreemptions();
                int group = Math.max(1, stage.getKvBlocksTotal() / ((PROMPT + OUTPUT + 15) / 16));
                List<Outcome> done = outcomes.stream().filter(o -> o.status().isOk()).toList();
                for (int from = 0; from < done.size(); from += group) {
                    List<Outcome> batch = done.subList(from, Math.min(done.size(), from + group));
                    List<Outcome> again = fire(channel, batch.stream().map(Outcome::prompt).toList());
                    for (int i = 0; i < batch.size(); i++) {
                        assertThat(again.get(i).status().isOk()).as("%s", again.get(i).status()).isTrue();
                        assertThat(batch.get(i).tokens()).as("tokens under pressure vs undisturbed")
                                .isEqualTo(again.get(i).tokens());
                    }
                }
                assertThat(stats(channel).getPreemptions()).as("the undisturbed runs were not preempted")
                        .isEqualTo(preemptedBefore);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Sends all requests at once (distinct random prompts) and waits for every end. */
    private static List<Outcome> fire(ManagedChannel channel) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            prompts.add(random.ints(PROMPT, 100, 262_144).toArray());
        }
        return fire(channel, prompts);
    }

    /** Sends one greedy request per prompt at once and waits for every end; outcomes in prompt order. */
    private static List<Outcome> fire(ManagedChannel channel, List<int[]> prompts) throws Exception {
        var stub = InferenceGrpc.newStub(channel);
        List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        for (int[] prompt : prompts) {
            GenerateRequest request = Streams.greedy(prompt, OUTPUT);
            CompletableFuture<Outcome> f = new CompletableFuture<>();
            List<Integer> tokens = new ArrayList<>();
            stub.withDeadlineAfter(30, TimeUnit.MINUTES).generate(request, new StreamObserver<>() {
                @Override
                public void onNext(GenerateResponse r) {
                    tokens.addAll(r.getTokenIdsList());
                }

                @Override
                public void onError(Throwable t) {
                    f.complete(new Outcome(prompt, tokens, Status.fromThrowable(t)));
                }

                @Override
                public void onCompleted() {
                    f.complete(new Outcome(prompt, tokens, Status.OK));
                }
            });
            futures.add(f);
        }
        List<Outcome> out = new ArrayList<>();
        for (CompletableFuture<Outcome> f : futures) {
            out.add(f.get(30, TimeUnit.MINUTES));
        }
        return out;
    }

    private static ServingStatus health(ManagedChannel channel) {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } catch (io.grpc.StatusRuntimeException e) {
            return ServingStatus.UNKNOWN;
        }
    }

    private static StageStats stats(ManagedChannel channel) {
        PipelineStats p = InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getPipelineStats(GetPipelineStatsRequest.getDefaultInstance());
        return p.getStages(0);
    }

    /** Samples a process's resident set every 100 ms and reads the kernel's high-water mark (VmHWM). */
    private static final class RssWatch {
        private final long pid;
        private final AtomicLong max = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;
        private volatile long hwm;

        RssWatch(long pid) {
            this.pid = pid;
            this.thread = Thread.ofPlatform().daemon().unstarted(this::run);
        }

        void start() {
            thread.start();
        }

        private void run() {
            while (running.get()) {
                max.accumulateAndGet(kib("VmRSS:") * 1024, Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
            hwm = kib("VmHWM:") * 1024;
        }

        long sampledMax() {
            return max.get();
        }

        /** The kernel's peak resident set of the process. */
        long peakBytes() {
            return Math.max(hwm, max.get());
        }

        private long kib(String field) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith(field)) {
                        return Long.parseLong(line.substring(field.length()).replace("kB", "").strip());
                    }
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // the process is gone: the assertions on it say so
            }
            return 0;
        }
    }
}
