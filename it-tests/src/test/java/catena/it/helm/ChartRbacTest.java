package catena.it.helm;

import static catena.it.helm.ChartRenderer.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.gateway.discovery.PodView;
import catena.gateway.k8s.PodWatch;
import catena.gateway.k8s.StatefulSetScale;
import catena.gateway.scaling.PoolScaler;
import catena.gateway.scaling.ScalingPolicy;
import catena.gateway.scaling.StageLoad;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rendered Role grants exactly the API calls Catena makes: discovery's pod informer and the
 * autoscaler's scale reads and patches run against the fabric8 mock API server (CRUD mode), every
 * request they send is recorded as (API group, resource[/subresource], verb, name), and that set
 * must equal what the Role's rules grant, in both directions; named calls must fall within a
 * rule's resourceNames. The test's own set-up goes through a second client, told apart by its
 * User-Agent, and is not counted.
 */
@EnableKubernetesMockClient(crud = true)
class ChartRbacTest {
    private static final ChartRenderer CHART = ChartRenderer.forRepository();
    private static final String SETUP_AGENT = "chart-rbac-test-setup";
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");

    KubernetesMockServer server;
    KubernetesClient client;
    private KubernetesClient setup;
    private int taken;

    /** One API call as RBAC sees it. */
    record Call(String apiGroup, String resource, String verb, String name) {
        String grant() {
            return apiGroup + " " + resource + " " + verb;
        }
    }

    @BeforeEach
    void setupClient() {
        setup = new KubernetesClientBuilder().withConfig(new ConfigBuilder(client.getConfiguration())
                .withUserAgent(SETUP_AGENT).build()).build();
    }

    @AfterEach
    void closeSetupClient() {
        setup.close();
    }

    @Test
    void roleIsExactlyWhatApiDiscoveryCalls() throws Exception {
        Map<String, Object> values = Map.of("cluster.discovery", "kubernetes-api");
        List<Call> calls = exercise(values, true, false);
        compare(role(values), calls);
    }

    @Test
    void roleIsExactlyWhatTheWorkerAutoscalerCalls() throws Exception {
        Map<String, Object> values = Map.of("autoscaling.workers.enabled", true);
        List<Call> calls = exercise(values, false, true);
        compare(role(values), calls);
    }

    @Test
    void roleIsExactlyWhatDiscoveryAndTheAutoscalerCallTogether() throws Exception {
        Map<String, Object> values = Map.of("cluster.discovery", "kubernetes-api", "autoscaling.workers.enabled", true,
                "pipeline.replicas", 2);
        List<Call> calls = exercise(values, true, true);
        compare(role(values), calls);
    }

    private static Role role(Map<String, Object> values) {
        List<Role> roles = CHART.render(values).stream().filter(Role.class::isInstance).map(Role.class::cast).toList();
        assertThat(roles).hasSize(1);
        return roles.getFirst();
    }

    /** Runs what the rendered pods would run, with their rendered arguments; returns their calls. */
    private List<Call> exercise(Map<String, Object> values, boolean discovery, boolean scaler) throws Exception {
        List<HasMetadata> objects = CHART.render(values);
        StatefulSet workers = objects.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast)
                .findFirst().orElseThrow();
        Container gateway = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                .findFirst().orElseThrow().getSpec().getTemplate().getSpec().getContainers().getFirst();
        setup.apps().statefulSets().inNamespace(NAMESPACE).resource(new io.fabric8.kubernetes.api.model.apps
                .StatefulSetBuilder(workers).editSpec().withReplicas(2).endSpec().build()).create();

        if (discovery) {
            String selector = gateway.getEnv().stream().filter(e -> e.getName().equals("CATENA_K8S_SELECTOR"))
                    .findFirst().orElseThrow().getValue();
            var seen = new AtomicReference<List<PodView>>(List.of());
            try (PodWatch watch = new PodWatch(client, NAMESPACE, PodWatch.parseSelector(selector), seen::set)) {
                var labels = workers.getSpec().getTemplate().getMetadata().getLabels();
                setup.pods().inNamespace(NAMESPACE).resource(new PodBuilder().withNewMetadata()
                        .withName(workers.getMetadata().getName() + "-0").withLabels(labels)
                        .withCreationTimestamp(T0.toString()).endMetadata().withNewStatus().withPhase("Running")
                        .withPodIP("10.2.0.1").endStatus().build()).create();
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.get().size() == 1);
                setup.pods().inNamespace(NAMESPACE).withName(workers.getMetadata().getName() + "-0").delete();
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.get().isEmpty());
            }
        }
        if (scaler) {
            List<String> args = gateway.getArgs();
            String name = args.get(args.indexOf("--autoscale-statefulset") + 1);
            int stages = Integer.parseInt(args.get(args.indexOf("--stages") + 1));
            PoolScaler pool = new PoolScaler(new ScalingPolicy(stages, 1, 3, Duration.ofSeconds(1), 0.9,
                    Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO), 0,
                    new StatefulSetScale(client, NAMESPACE, name));
            List<StageLoad> queued = List.of(new StageLoad(4, 2, 10, 64));
            pool.observe(T0, queued);
            assertThat(pool.observe(T0.plusSeconds(1), queued)).as("a scale-up happened").isPresent();
        }
        return recorded();
    }

    private List<Call> recorded() throws InterruptedException {
        List<Call> calls = new ArrayList<>();
        for (int n = server.getRequestCount(); taken < n; taken++) {
            RecordedRequest r = server.takeRequest(1, TimeUnit.SECONDS);
            if (!SETUP_AGENT.equals(r.getHeader("User-Agent"))) {
                calls.add(call(r.getMethod(), r.getPath()));
            }
        }
        return calls;
    }

    /** {@code GET /apis/apps/v1/namespaces/ns/statefulsets/w/scale} -> (apps, statefulsets/scale, get, w). */
    static Call call(String method, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
        String[] p = path.substring(1).split("/");
        int at = p[0].equals("api") ? 2 : 3; // api/v1/... or apis/GROUP/v1/...
        String group = p[0].equals("api") ? "" : p[1];
        if (!p[at].equals("namespaces")) {
            throw new AssertionError("a call outside a namespace (a Role cannot grant it): " + method + " " + path);
        }
        String resource = p[at + 2];
        String name = p.length > at + 3 ? p[at + 3] : null;
        if (p.length > at + 4) {
            resource += "/" + p[at + 4];
        }
        boolean watch = List.of(query.split("&")).contains("watch=true");
        String verb = switch (method) {
            case "GET" -> name != null ? "get" : watch ? "watch" : "list";
            case "PATCH" -> "patch";
            case "PUT" -> "update";
            case "POST" -> "create";
            case "DELETE" -> name != null ? "delete" : "deletecollection";
            default -> throw new AssertionError("unexpected method " + method + " " + path);
        };
        return new Call(group, resource, verb, name);
    }

    private static void compare(Role role, List<Call> calls) {
        assertThat(calls).as("the exercised code made API calls").isNotEmpty();
        Set<String> needed = new TreeSet<>();
        calls.forEach(c -> needed.add(c.grant()));
        Set<String> granted = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            for (String g : rule.getApiGroups()) {
                for (String r : rule.getResources()) {
                    for (String v : rule.getVerbs()) {
                        granted.add(g + " " + r + " " + v);
                    }
                }
            }
        }
        assertThat(granted).as("Role rules vs calls made %s", calls).isEqualTo(needed);
        for (Call c : calls) {
            PolicyRule rule = role.getRules().stream().filter(r -> r.getApiGroups().contains(c.apiGroup())
                    && r.getResources().contains(c.resource()) && r.getVerbs().contains(c.verb())).findFirst()
                    .orElseThrow();
            if (!rule.getResourceNames().isEmpty()) {
                assertThat(rule.getResourceNames()).as("resourceNames for %s", c).contains(c.name());
            }
        }
    }

    @Test
    void shouldReadRbacTermsFromRequestPaths() {
        assertThat(call("GET", "/api/v1/namespaces/infer/pods?labelSelector=a%3Db&resourceVersion=0"))
                .isEqualTo(new Call("", "pods", "list", null));
        assertThat(call("GET", "/api/v1/namespaces/infer/pods?allowWatchBookmarks=true&watch=true"))
                .isEqualTo(new Call("", "pods", "watch", null));
        assertThat(call("PATCH", "/apis/apps/v1/namespaces/infer/statefulsets/w/scale"))
                .isEqualTo(new Call("apps", "statefulsets/scale", "patch", "w"));
        assertThat(call("GET", "/apis/apps/v1/namespaces/infer/statefulsets/w"))
                .isEqualTo(new Call("apps", "statefulsets", "get", "w"));
    }
}
