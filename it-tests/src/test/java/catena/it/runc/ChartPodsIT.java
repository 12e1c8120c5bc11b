package catena.it.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import catena.it.cluster.Fixtures;
import catena.it.cluster.PausedStream;
import catena.it.cluster.Streams;
import catena.it.helm.ChartRenderer;
import catena.shard.generate.Generator;
import catena.shard.gguf.GgufFile;
import catena.shard.model.LoadOptions;
import catena.shard.model.Model;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.Tokenizer;
import catena.v1.GenerateRequest;
import catena.v1.GenerateResponse;
import catena.v1.GetModelInfoRequest;
import catena.v1.InferenceGrpc;
import catena.v1.ModelInfo;
import catena.v1.ReplicaInfo;
import catena.v1.TokenPrompt;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The chart's pods as real containers of the built image. The chart is rendered with Helm for
 * 1 stage x 2 replicas (2 worker pods) and the stories260K fixture on a hostPath; the gateway
 * Deployment's pod and the worker StatefulSet's 2 pods become runc containers (bundles unpacked
 * from {@code -Dcatena.e2e.image=TAR} by umoci), each in its own network namespace with the
 * address and DNS name a cluster would give it. Their probes run as the kubelet runs them; a
 * client on this machine streams through the gateway's pod IP. Skipped unless that property is
 * set (run by {@code .ci/k8s-e2e}, as root, with runc and umoci installed).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartPodsIT {
    private static final String MODEL = "stories/stories260K-q8_0.gguf";
    private static final String DOMAIN = "cluster.local";
    private static final String SUBNET = "10.213.0";
    /** runc container ids, namespaces, veths and the bridge all start with this (.ci/k8s-e2e cleans them). */
    private static final String PREFIX = "cte2e";
    private static final int MAX_TOKENS = 100;

    private static Path model;
    private static PodNetwork network;
    private static RuncPod gateway;
    private static final List<RuncPod> workers = new ArrayList<>();
    private static final Map<RuncPod, KubeletProbe> readiness = new LinkedHashMap<>();
    private static final Map<RuncPod, KubeletProbe> liveness = new LinkedHashMap<>();
    private static ScheduledExecutorService kubelet;
    private static ManagedChannel channel;
    private static PodSpec workerSpec;
    private static Path bundles;
    private static Path layout;
    private static String imageRef;
    private static Map<String, ConfigMap> configMaps;
    private static String hosts;
    private static long workersStarted;

    @BeforeAll
    static void renderAndStartTheGateway() throws Exception {
        String image = System.getProperty("catena.e2e.image", "");
        assumeTrue(!image.isBlank(), "set -Dcatena.e2e.image=TAR (the OCI image tar) to run the pods under runc;"
                + " .ci/k8s-e2e does");
        model = Fixtures.file(MODEL).toAbsolutePath().normalize();
        Map<String, Object> values = Map.of("pipeline.stages", 1, "pipeline.replicas", 2, "cluster.discovery", "seeds",
                "cluster.domain", DOMAIN, "model.hostPath", model.getParent().toString(),
                "model.path", "/models/" + model.getFileName());
        List<HasMetadata> objects = ChartRenderer.forRepository().render(values);
        Deployment gatewayDeployment = one(objects, Deployment.class);
        StatefulSet workerSet = one(objects, StatefulSet.class);
        configMaps = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
                .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c));
        workerSpec = workerSet.getSpec().getTemplate().getSpec();
        assertThat(workerSet.getSpec().getReplicas()).as("worker pods for 1 stage x 2 replicas").isEqualTo(2);

        bundles = Path.of("target", "runc").toAbsolutePath();
        Host.run("rm", "-rf", bundles.toString());
        layout = bundles.resolve("image");
        Files.createDirectories(layout);
        Host.run("tar", "-xf", Path.of(image).toAbsolutePath().toString(), "-C", layout.toString());
        imageRef = new ObjectMapper().readTree(layout.resolve("index.json").toFile()).get("manifests").get(0)
                .get("annotations").get("org.opencontainers.image.ref.name").asText();

        network = new PodNetwork(PREFIX, SUBNET);
        String headless = workerSet.getSpec().getServiceName();
        String gatewayPod = gatewayDeployment.getMetadata().getName() + "-5d4c8b7f9-e2e0a";
        PodNetwork.Attachment gatewayNet = network.attach(10);
        List<PodNetwork.Attachment> workerNets = new ArrayList<>();
        // What the cluster DNS answers for the headless Service: one name per StatefulSet pod.
        StringBuilder dns = new StringBuilder("127.0.0.1\tlocalhost\n");
        for (int i = 0; i < workerSet.getSpec().getReplicas(); i++) {
            PodNetwork.Attachment net = network.attach(20 + i);
            workerNets.add(net);
            String pod = workerSet.getMetadata().getName() + "-" + i;
            dns.append(net.ip()).append('\t').append(pod).append('.').append(headless).append('.')
                    .append(ChartRenderer.NAMESPACE).append(".svc.").append(DOMAIN).append(' ').append(pod).append('\n');
        }
        dns.append(gatewayNet.ip()).append('\t').append(gatewayPod).append('\n');
        hosts = dns.toString();

        kubelet = Executors.newScheduledThreadPool(4);
        gateway = RuncPod.create(layout, imageRef, bundles, PREFIX + "-", gatewayDeployment.getSpec().getTemplate()
                .getSpec(), new RuncPod.Placement(gatewayPod, ChartRenderer.NAMESPACE, gatewayNet, hosts, configMaps));
        for (int i = 0; i < workerNets.size(); i++) {
            workers.add(RuncPod.create(layout, imageRef, bundles, PREFIX + "-", workerSpec, new RuncPod.Placement(
                    workerSet.getMetadata().getName() + "-" + i, ChartRenderer.NAMESPACE, workerNets.get(i), hosts,
                    configMaps)));
        }
        System.out.println("E2E gateway: " + String.join(" ", gateway.commandLine()));
        System.out.println("E2E worker:  " + String.join(" ", workers.getFirst().commandLine()));
        start(gateway);
        channel = Grpc.newChannelBuilderForAddress(gateway.ip(), gateway.container().getPorts().stream()
                .filter(p -> "grpc".equals(p.getName())).findFirst().orElseThrow().getContainerPort(),
                InsecureChannelCredentials.create()).build();
    }

    private static void start(RuncPod pod) {
        pod.start();
        KubeletProbe ready = new KubeletProbe(pod.name() + " readiness", pod.container().getReadinessProbe(), pod);
        KubeletProbe live = new KubeletProbe(pod.name() + " liveness", pod.container().getLivenessProbe(), pod);
        readiness.put(pod, ready);
        liveness.put(pod, live);
        ready.start(kubelet);
        live.start(kubelet);
    }

    @AfterAll
    static void stop() {
        if (kubelet != null) {
            kubelet.shutdownNow();
        }
        if (channel != null) {
            channel.shutdownNow();
        }
        if (gateway != null) {
            gateway.delete();
        }
        workers.forEach(RuncPod::delete);
        if (network != null) {
            network.close();
        }
    }

    @Test
    @Order(1)
    void shouldReportReadyOnlyOnceTheWorkersHaveLoadedThePipeline() throws Exception {
        KubeletProbe gatewayReady = readiness.get(gateway);
        // Alone, the gateway process runs and serves gRPC (health answers) but has no pipeline.
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
                gatewayReady.results().stream().filter(r -> r.detail().contains("NOT_SERVING")).count() >= 2);
        assertThat(gateway.status()).isEqualTo("running");
        assertThat(gatewayReady.results()).as("readiness of the gateway with no worker").noneMatch(
                KubeletProbe.Result::ok);
        workersStarted = System.nanoTime();
        workers.forEach(ChartPodsIT::start);

        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(200)).until(gatewayReady::state);
        // The moment readiness turned true, the plan owner had a replica whose stages had all loaded.
        ModelInfo info = InferenceGrpc.newBlockingStub(channel).getModelInfo(GetModelInfoRequest.getDefaultInstance());
        assertThat(info.getReplicasList()).as("replicas when readiness turned true").anyMatch(ReplicaInfo::getReady);
        List<KubeletProbe.Result> before = gatewayReady.results();
        KubeletProbe.Result first = before.stream().filter(KubeletProbe.Result::ok).findFirst().orElseThrow();
        assertThat(before.subList(0, before.indexOf(first))).as("every check before the first SERVING")
                .isNotEmpty().noneMatch(KubeletProbe.Result::ok);
        await().atMost(Duration.ofSeconds(120)).until(() -> workers.stream().allMatch(w -> readiness.get(w).state()));
        await().atMost(Duration.ofSeconds(120)).until(() -> InferenceGrpc.newBlockingStub(channel)
                .getModelInfo(GetModelInfoRequest.getDefaultInstance()).getReplicasList().stream()
                .filter(ReplicaInfo::getReady).count() == 2);
        System.out.printf("E2E READY gateway readiness: %d checks NOT ready (%d while no worker ran), first SERVING"
                        + " %.1f s after the workers started; %s%n", before.indexOf(first),
                before.stream().filter(r -> r.nanos() < workersStarted).count(), (first.nanos() - workersStarted) / 1e9,
                describe(gatewayReady));
    }

    @Test
    @Order(2)
    void shouldRunAsTheChartsUserWithTheRootAndTheModelReadOnly() throws Exception {
        List<RuncPod> pods = new ArrayList<>(workers);
        pods.add(gateway);
        String model = "/models/" + ChartPodsIT.model.getFileName();
        for (RuncPod pod : pods) {
            assertThat(pod.initUids()).as("uids of %s's java", pod.name()).matches("10001\\s+10001\\s+10001\\s+10001");
            assertThat(pod.shell("test -r " + model).exit()).as("%s reads the model", pod.name()).isZero();
            assertThat(pod.shell(": >> " + model).exit()).as("%s appends to the model", pod.name()).isNotZero();
            assertThat(pod.shell(": > /app/probe").exit()).as("%s writes the root filesystem", pod.name()).isNotZero();
            assertThat(pod.shell(": > /tmp/probe").exit()).as("%s writes /tmp (emptyDir)", pod.name()).isZero();
        }
        System.out.printf("E2E SECURITY %d pods: java runs as uid 10001; model and root filesystem read-only, /tmp"
                + " writable%n", pods.size());
    }

    @Test
    @Order(3)
    void shouldStreamACompletionToAClientOutsideTheContainers() throws Exception {
        int[] prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        int maxTokens = 48;
        int[] want = Streams.reference(model, prompt, maxTokens);
        Iterator<GenerateResponse> it = InferenceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                .generate(Streams.greedy(prompt, maxTokens));
        StringBuilder text = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        int responses = 0;
        while (it.hasNext()) {
            GenerateResponse r = it.next();
            responses++;
            text.append(r.getText());
            tokens.addAll(r.getTokenIdsList());
        }
        int[] got = tokens.stream().mapToInt(Integer::intValue).limit(want.length).toArray();
        assertThat(got).as("greedy tokens streamed from the containers vs this JVM's Generator").containsExactly(want);
        assertThat(responses).as("streamed in pieces").isGreaterThan(1);
        System.out.printf("E2E STREAM %d tokens in %d responses from %s: %s%n", tokens.size(), responses, gateway.ip(),
                text.toString().replace('\n', ' '));
    }

    @Test
    @Order(4)
    void shouldCompleteEveryStreamWhenAWorkerContainerIsKilled() throws Exception {
        int[] prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        int n = 8;
        List<int[]> want = references(prompt, n);
        var stub = InferenceGrpc.newStub(channel);
        ModelInfo before = InferenceGrpc.newBlockingStub(channel).getModelInfo(GetModelInfoRequest.getDefaultInstance());
        assertThat(before.getReplicasList()).hasSize(2).allMatch(ReplicaInfo::getReady);
        List<PausedStream> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            streams.add(PausedStream.start(stub, request(prompt, i), 12));
        }
        await().atMost(Duration.ofSeconds(120)).until(() -> streams.stream().allMatch(s -> s.received() >= 12));
        String address = before.getReplicas(1).getStages(0).getAddress();
        RuncPod victim = workers.stream().filter(w -> w.output().contains("catena: worker " + address + " up"))
                .findFirst().orElseThrow(() -> new AssertionError("no worker container logged " + address));
        long killed = System.nanoTime();
        victim.kill();
        streams.forEach(PausedStream::resume);
        for (int i = 0; i < n; i++) {
            Status status = streams.get(i).done().get(180, TimeUnit.SECONDS);
            assertThat(status.isOk()).as("stream %d ended with %s\n%s", i, status, gateway.output()).isTrue();
            assertThat(streams.get(i).tokens()).as("tokens of stream %d", i).containsExactly(want.get(i));
        }
        long slowest = streams.stream().mapToLong(s -> s.longestGapAfter(killed)).max().orElseThrow();
        await().atMost(Duration.ofSeconds(30)).until(() -> !"running".equals(victim.status()));
        KubeletProbe victimReady = readiness.get(victim);
        await().atMost(Duration.ofSeconds(60)).until(() -> !victimReady.state());
        for (RuncPod survivor : List.of(gateway, workers.get(1 - workers.indexOf(victim)))) {
            assertThat(liveness.get(survivor).results()).as("liveness checks of %s (a failure run would restart it)",
                    survivor.name()).isNotEmpty().allMatch(KubeletProbe.Result::ok);
        }
        System.out.printf("E2E FAILOVER runc kill %s KILL (replica 1): %d/%d streams complete with the undisturbed"
                        + " tokens; longest pause after the kill %.2f s; its readiness probe turned false; the others' liveness never failed%n",
                victim.name(), n, n, slowest / 1e9);
    }

    private static GenerateRequest request(int[] prompt, int i) {
        TokenPrompt.Builder p = TokenPrompt.newBuilder();
        Arrays.stream(prompt).forEach(p::addIds);
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setTokens(p).setMaxTokens(MAX_TOKENS);
        return i % 2 == 0 ? b.setTemperature(0).build() : b.setTemperature(0.8f).setTopP(0.9f).setSeed(i).build();
    }

    private static List<int[]> references(int[] prompt, int n) throws Exception {
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(f.metadata());
        }
        List<int[]> want = new ArrayList<>();
        try (Model m = Model.load(model, LoadOptions.defaults())) {
            Generator g = new Generator(m, tokenizer);
            for (int i = 0; i < n; i++) {
                SamplingParams params = i % 2 == 0 ? SamplingParams.GREEDY
                        : new SamplingParams(0.8f, 0, 0.9f, 0f, 1f, 64, i);
                want.add(g.generate(prompt, params, MAX_TOKENS, null).tokens());
            }
        }
        return want;
    }

    private static String describe(KubeletProbe probe) {
        return probe.results().stream().map(r -> (r.ok() ? "+" : "-")).collect(Collectors.joining("", "checks ", ""));
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> kind) {
        List<T> found = objects.stream().filter(kind::isInstance).map(kind::cast).toList();
        assertThat(found).as("rendered %s objects", kind.getSimpleName()).hasSize(1);
        return found.getFirst();
    }
}
