package catena.it.helm;

import static catena.it.helm.ChartRenderer.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Lints and renders {@code helm/} with a real Helm (helm-java) and checks the facts the cluster
 * depends on: worker count, seed-node names, probes, selectors, the model volume, the schema.
 */
class HelmChartTest {
    private static final ChartRenderer CHART = ChartRenderer.forRepository();
    private static final String WORKER = "demo-catena-worker";
    private static final String GATEWAY = "demo-catena-gateway";
    private static final String HEADLESS = "demo-catena-worker-headless";

    private static final Map<String, Object> SCALED = Map.of(
            "pipeline.stages", 3,
            "pipeline.replicas", 2,
            "model.url", "https://models.example.org/gemma-3-1b-it-q8_0.gguf",
            "model.sha256", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "model.path", "/var/lib/catena/gemma.gguf");

    @Test
    void strictLintPassesWithDefaultValues() {
        LintResult result = CHART.helm().lint().strict().call();
        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void defaultsRenderEveryObjectOnce() {
        List<HasMetadata> objects = CHART.render(Map.of());
        assertThat(objects).extracting(o -> o.getKind() + "/" + o.getMetadata().getName()).containsExactlyInAnyOrder(
                "ConfigMap/demo-catena", "ServiceAccount/demo-catena",
                "Service/" + GATEWAY, "Service/" + HEADLESS, "Deployment/" + GATEWAY, "StatefulSet/" + WORKER,
                "PodDisruptionBudget/" + GATEWAY, "PodDisruptionBudget/" + WORKER);
        assertThat(one(objects, StatefulSet.class).getSpec().getReplicas()).isEqualTo(2);
        assertThat(one(objects, Deployment.class).getSpec().getReplicas()).isEqualTo(1);
    }

    @Test
    void everyRenderedFieldIsKnownToTheKubernetesModel() {
        for (Map<String, Object> values : List.of(Map.<String, Object>of(), SCALED,
                Map.<String, Object>of("model.hostPath", "/srv/models", "rbac.create", false),
                Map.<String, Object>of("cluster.discovery", "kubernetes-api", "autoscaling.workers.enabled", true,
                        "security.tls.secretName", "gw-tls", "tests.apiKeySecret.name", "k",
                        "tests.apiKeySecret.key", "one"))) {
            List<HasMetadata> objects = new java.util.ArrayList<>(CHART.render(values));
            objects.addAll(CHART.hooks(values));
            for (HasMetadata object : objects) {
                assertThat(UnknownFields.in(object)).as("unknown fields in %s/%s with %s", object.getKind(),
                        object.getMetadata().getName(), values).isEmpty();
            }
        }
    }

    @Test
    void workerCountIsStagesTimesReplicas() {
        StatefulSet workers = one(CHART.render(SCALED), StatefulSet.class);
        assertThat(workers.getSpec().getReplicas()).isEqualTo(6);
        assertThat(workers.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        assertThat(workers.getSpec().getServiceName()).isEqualTo(HEADLESS);
        assertThat(one(CHART.render(Map.of("pipeline.stages", 4, "pipeline.replicas", 3)), StatefulSet.class)
                .getSpec().getReplicas()).isEqualTo(12);
        // Hot spares come on top of stages x replicas, and the gateway plans that many replicas.
        List<HasMetadata> spared = CHART.render(Map.of("pipeline.stages", 2, "pipeline.replicas", 2,
                "pipeline.spares", 1));
        assertThat(one(spared, StatefulSet.class).getSpec().getReplicas()).isEqualTo(5);
        assertThat(container(one(spared, Deployment.class).getSpec().getTemplate()).getArgs())
                .containsSequence("--stages", "2").containsSequence("--replicas", "2");
    }

    @Test
    void seedNodesAreTheFirstWorkersStableNames() {
        List<HasMetadata> objects = CHART.render(SCALED);
        List<String> expected = IntStream.range(0, 3)
                .mapToObj(i -> WORKER + "-" + i + "." + HEADLESS + ".infer.svc.cluster.local:2552").toList();
        ConfigMap config = one(objects, ConfigMap.class);
        assertThat(Arrays.asList(config.getData().get("seed-nodes").split(","))).containsExactlyElementsOf(expected);
        String conf = config.getData().get("application.conf");
        expected.forEach(seed -> assertThat(conf).contains("\"pekko://catena@" + seed + "\""));
        assertThat(conf).contains("stages = 3", "replicas = 2", "workers = 6");

        // Each worker advertises the name the seed list uses for it (Pekko drops messages otherwise).
        Container worker = container(one(objects, StatefulSet.class).getSpec().getTemplate());
        String host = env(worker, "CATENA_HOST").getValue();
        for (int i = 0; i < 3; i++) {
            assertThat(host.replace("$(POD_NAME)", WORKER + "-" + i) + ":2552").isEqualTo(expected.get(i));
        }
        assertThat(env(worker, "POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
        assertThat(worker.getArgs()).containsSequence("--host", "$(CATENA_HOST)")
                .containsSequence("--seed-nodes", "$(CATENA_SEED_NODES)").containsSequence("--pekko-port", "2552");
        assertThat(env(worker, "CATENA_SEED_NODES").getValueFrom().getConfigMapKeyRef().getKey()).isEqualTo("seed-nodes");

        Service headless = service(objects, HEADLESS);
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    }

    @Test
    void workersOpenTheActivationLinkOnTheirDeclaredPortUnlessTurnedOff() {
        Container worker = container(one(CHART.render(Map.of()), StatefulSet.class).getSpec().getTemplate());
        assertThat(worker.getArgs()).containsSequence("--link-port", "2553");
        assertThat(worker.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("link");
            assertThat(p.getContainerPort()).isEqualTo(2553);
        });
        Container off = container(one(CHART.render(Map.of("worker.linkPort", -1)), StatefulSet.class).getSpec()
                .getTemplate());
        assertThat(off.getArgs()).containsSequence("--link-port", "-1");
        assertThat(off.getPorts()).noneSatisfy(p -> assertThat(p.getName()).isEqualTo("link"));
        Container tls = container(one(CHART.render(Map.of("security.clusterTls.secretName", "cluster-tls")),
                StatefulSet.class).getSpec().getTemplate());
        assertThat(tls.getPorts()).noneSatisfy(p -> assertThat(p.getName()).isEqualTo("link"));
    }

    @Test
    void seedListIsCappedAtTheWorkerCount() {
        ConfigMap config = one(CHART.render(Map.of("pipeline.stages", 1)), ConfigMap.class);
        assertThat(config.getData().get("seed-nodes"))
                .isEqualTo(WORKER + "-0." + HEADLESS + ".infer.svc.cluster.local:2552");
    }

    @Test
    void gatewayReadinessIsTheGrpcHealthServiceOnTheServedPort() {
        List<HasMetadata> objects = CHART.render(Map.of("gateway.port", 6000, "gateway.metrics.port", 9191,
                "gateway.http.port", 8181));
        Container gateway = container(one(objects, Deployment.class).getSpec().getTemplate());
        assertThat(gateway.getArgs()).containsSequence("--port", "6000").containsSequence("--metrics-port", "9191")
                .containsSequence("--http-port", "8181")
                .containsSequence("--role", "gateway").containsSequence("--stages", "2");
        assertThat(gateway.getReadinessProbe().getGrpc().getPort()).isEqualTo(6000);
        assertThat(gateway.getReadinessProbe().getGrpc().getService()).isEmpty();
        // NOT_SERVING while a stage is missing must not restart the gateway: liveness is a TCP check.
        assertThat(gateway.getLivenessProbe().getGrpc()).isNull();
        assertThat(gateway.getLivenessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("grpc");
        assertThat(gateway.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("grpc");
            assertThat(p.getContainerPort()).isEqualTo(6000);
        });

        Service service = service(objects, GATEWAY);
        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(service.getSpec().getPorts()).extracting(p -> p.getName() + ":" + p.getPort() + "->"
                + p.getTargetPort().getStrVal()).containsExactly("grpc:6000->grpc", "http:8181->http", "metrics:9191->metrics");
        assertThat(gateway.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .contains("grpc:6000", "http:8181", "metrics:9191");
        assertThat(one(objects, Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/port", "9191").containsEntry("prometheus.io/path", "/metrics");

        Container worker = container(one(objects, StatefulSet.class).getSpec().getTemplate());
        // ready = layers loaded (or a spare), which only the worker's own /ready knows
        assertThat(worker.getReadinessProbe().getTcpSocket()).isNull();
        assertThat(worker.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
        assertThat(worker.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");
        assertThat(worker.getLivenessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("pekko");
        assertThat(worker.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactly("pekko:2552", "link:2553", "metrics:9090");

        Container noHttp = container(one(CHART.render(Map.of("worker.metrics.enabled", false)), StatefulSet.class)
                .getSpec().getTemplate());
        assertThat(noHttp.getReadinessProbe().getHttpGet()).isNull();
        assertThat(noHttp.getReadinessProbe().getTcpSocket().getPort().getStrVal()).isEqualTo("pekko");
    }

    @Test
    void securitySecretsAreMountedAndTheirPathsPassed() {
        List<HasMetadata> objects = CHART.render(Map.of("security.tls.secretName", "gw-tls",
                "security.tls.requireClientCert", true, "security.apiKeys.secretName", "gw-keys",
                "security.clusterTls.secretName", "cluster-tls"));
        PodTemplateSpec gatewayPod = one(objects, Deployment.class).getSpec().getTemplate();
        Container gateway = container(gatewayPod);
        assertThat(gateway.getArgs()).containsSequence("--tls-cert", "/etc/catena/tls/tls.crt")
                .containsSequence("--tls-key", "/etc/catena/tls/tls.key")
                .containsSequence("--tls-client-ca", "/etc/catena/tls/ca.crt")
                .containsSequence("--api-key-file", "/etc/catena/api-keys/keys")
                .containsSequence("--cluster-tls", "/etc/catena/cluster-tls");
        assertThat(gatewayPod.getSpec().getVolumes()).extracting(v -> v.getName() + "=" + (v.getSecret() == null ? ""
                : v.getSecret().getSecretName())).contains("tls=gw-tls", "api-keys=gw-keys", "cluster-tls=cluster-tls");
        assertThat(gateway.getVolumeMounts()).extracting(m -> m.getName() + ":" + m.getMountPath())
                .contains("tls:/etc/catena/tls", "api-keys:/etc/catena/api-keys", "cluster-tls:/etc/catena/cluster-tls");
        assertThat(gateway.getArgs()).doesNotContain("--metrics-require-key");
        assertThat(container(one(CHART.render(Map.of("security.apiKeys.secretName", "gw-keys",
                "security.apiKeys.protectMetrics", true)), Deployment.class).getSpec().getTemplate()).getArgs())
                .contains("--metrics-require-key");
        // kubelet's gRPC probe cannot speak TLS: readiness asks the metrics port's /ready instead
        assertThat(gateway.getReadinessProbe().getGrpc()).isNull();
        assertThat(gateway.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");

        PodTemplateSpec workerPod = one(objects, StatefulSet.class).getSpec().getTemplate();
        Container worker = container(workerPod);
        assertThat(worker.getArgs()).containsSequence("--cluster-tls", "/etc/catena/cluster-tls")
                .doesNotContain("--api-key-file", "--tls-cert");
        assertThat(workerPod.getSpec().getVolumes()).extracting(v -> v.getName()).contains("cluster-tls")
                .doesNotContain("tls", "api-keys");

        // without security values nothing of it is rendered
        Container plain = container(one(CHART.render(Map.of()), Deployment.class).getSpec().getTemplate());
        assertThat(plain.getArgs()).doesNotContain("--tls-cert", "--api-key-file", "--cluster-tls");
        assertThat(plain.getReadinessProbe().getGrpc()).isNotNull();
    }

    @Test
    void tlsWithoutTheMetricsPortIsRefusedWithAReason() {
        assertThatThrownBy(() -> CHART.render(Map.of("security.tls.secretName", "gw-tls",
                "gateway.metrics.enabled", false))).hasMessageContaining("needs gateway.metrics.enabled");
    }

    @Test
    void workersServeMetricsAndAServiceMonitorScrapesBoth() {
        List<HasMetadata> objects = CHART.render(Map.of("serviceMonitor.enabled", true,
                "serviceMonitor.labels.release", "prom"));
        Container worker = container(one(objects, StatefulSet.class).getSpec().getTemplate());
        assertThat(worker.getArgs()).containsSequence("--metrics-port", "9090");
        assertThat(worker.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort()).contains("metrics:9090");
        assertThat(service(objects, HEADLESS).getSpec().getPorts()).extracting(p -> p.getName()).contains("metrics");
        List<HasMetadata> monitors = objects.stream().filter(o -> o.getKind().equals("ServiceMonitor")).toList();
        assertThat(monitors).extracting(o -> o.getMetadata().getName())
                .containsExactlyInAnyOrder("demo-catena-gateway", "demo-catena-worker");
        assertThat(monitors).allSatisfy(m -> assertThat(m.getMetadata().getLabels()).containsEntry("release", "prom"));
        assertThat(CHART.render(Map.of())).noneMatch(o -> o.getKind().equals("ServiceMonitor"));
    }

    @Test
    void httpApiOffPassesMinusOneAndExposesNoHttpPort() {
        List<HasMetadata> objects = CHART.render(Map.of("gateway.http.enabled", false));
        Container gateway = container(one(objects, Deployment.class).getSpec().getTemplate());
        assertThat(gateway.getArgs()).containsSequence("--http-port", "-1");
        assertThat(gateway.getPorts()).extracting(p -> p.getName()).doesNotContain("http");
        assertThat(service(objects, GATEWAY).getSpec().getPorts()).extracting(p -> p.getName()).doesNotContain("http");
    }

    @Test
    void selectorsOfServicesAndBudgetsMatchOnlyTheirOwnPods() {
        List<HasMetadata> objects = CHART.render(SCALED);
        Map<String, String> gatewayPod = one(objects, Deployment.class).getSpec().getTemplate().getMetadata().getLabels();
        Map<String, String> workerPod = one(objects, StatefulSet.class).getSpec().getTemplate().getMetadata().getLabels();

        for (PodDisruptionBudget pdb : all(objects, PodDisruptionBudget.class)) {
            Map<String, String> selector = pdb.getSpec().getSelector().getMatchLabels();
            boolean forGateway = pdb.getMetadata().getName().equals(GATEWAY);
            assertThat(matches(selector, forGateway ? gatewayPod : workerPod)).as(pdb.getMetadata().getName()).isTrue();
            assertThat(matches(selector, forGateway ? workerPod : gatewayPod)).as(pdb.getMetadata().getName()).isFalse();
        }
        assertThat(all(objects, PodDisruptionBudget.class)).hasSize(2);
        assertThat(matches(service(objects, GATEWAY).getSpec().getSelector(), gatewayPod)).isTrue();
        assertThat(matches(service(objects, GATEWAY).getSpec().getSelector(), workerPod)).isFalse();
        assertThat(matches(service(objects, HEADLESS).getSpec().getSelector(), workerPod)).isTrue();
        assertThat(matches(service(objects, HEADLESS).getSpec().getSelector(), gatewayPod)).isFalse();
        assertThat(matches(one(objects, Deployment.class).getSpec().getSelector().getMatchLabels(), gatewayPod)).isTrue();
        assertThat(matches(one(objects, StatefulSet.class).getSpec().getSelector().getMatchLabels(), workerPod)).isTrue();
    }

    @Test
    void downloadedModelIsMountedReadOnlyWhereTheArgsPoint() {
        List<HasMetadata> objects = CHART.render(SCALED);
        for (PodTemplateSpec pod : List.of(one(objects, Deployment.class).getSpec().getTemplate(),
                one(objects, StatefulSet.class).getSpec().getTemplate())) {
            PodSpec spec = pod.getSpec();
            Volume model = volume(spec, "model");
            assertThat(model.getEmptyDir()).isNotNull();
            assertThat(model.getPersistentVolumeClaim()).isNull();

            Container main = container(pod);
            String path = main.getArgs().get(main.getArgs().indexOf("--model") + 1);
            assertThat(path).isEqualTo("/var/lib/catena/gemma.gguf");
            VolumeMount mount = mount(main, "model");
            assertThat(mount.getMountPath()).isEqualTo("/var/lib/catena");
            assertThat(mount.getReadOnly()).isTrue();

            assertThat(spec.getInitContainers()).hasSize(1);
            Container download = spec.getInitContainers().getFirst();
            assertThat(mount(download, "model").getMountPath()).isEqualTo("/var/lib/catena");
            assertThat(mount(download, "model").getReadOnly()).isNotEqualTo(Boolean.TRUE);
            assertThat(env(download, "MODEL_PATH").getValue()).isEqualTo(path);
            assertThat(env(download, "MODEL_URL").getValue()).isEqualTo(SCALED.get("model.url"));
            assertThat(env(download, "MODEL_SHA256").getValue()).isEqualTo(SCALED.get("model.sha256"));
            assertThat(String.join("\n", download.getCommand())).contains("sha256sum -c", "curl -fL", "mv ");
        }
    }

    @Test
    void defaultModelSourceIsAReadOnlyClaim() {
        List<HasMetadata> objects = CHART.render(Map.of());
        PodSpec worker = one(objects, StatefulSet.class).getSpec().getTemplate().getSpec();
        assertThat(volume(worker, "model").getPersistentVolumeClaim().getClaimName()).isEqualTo("catena-models");
        assertThat(volume(worker, "model").getPersistentVolumeClaim().getReadOnly()).isTrue();
        assertThat(worker.getInitContainers()).isEmpty();
        Container main = worker.getContainers().getFirst();
        assertThat(main.getArgs()).containsSequence("--model", "/models/model.gguf");
        assertThat(mount(main, "model").getMountPath()).isEqualTo("/models");
        assertThat(mount(main, "model").getReadOnly()).isTrue();
    }

    @Test
    void hostPathModelIsMountedReadOnly() {
        PodSpec worker = one(CHART.render(Map.of("model.hostPath", "/srv/models")), StatefulSet.class)
                .getSpec().getTemplate().getSpec();
        assertThat(volume(worker, "model").getHostPath().getPath()).isEqualTo("/srv/models");
        assertThat(volume(worker, "model").getPersistentVolumeClaim()).isNull();
        assertThat(mount(worker.getContainers().getFirst(), "model").getReadOnly()).isTrue();
        assertThat(worker.getInitContainers()).isEmpty();
    }

    @Test
    void missingModelSourceFailsWithAClearMessage() {
        assertThatThrownBy(() -> CHART.template(Map.of("model.existingClaim", "")))
                .hasMessageContaining("set one of model.url, model.hostPath or model.existingClaim");
    }

    @Test
    void gatewaysAreAFixedCountWithNoHorizontalPodAutoscaler() {
        for (Map<String, Object> values : List.of(Map.<String, Object>of(), SCALED,
                Map.<String, Object>of("autoscaling.workers.enabled", true, "gateway.replicas", 3))) {
            List<HasMetadata> objects = CHART.render(values);
            assertThat(all(objects, HorizontalPodAutoscaler.class)).as("HPA with %s", values).isEmpty();
            assertThat(objects).noneMatch(o -> o.getKind().equals("HorizontalPodAutoscaler"));
        }
        assertThat(one(CHART.render(Map.of("gateway.replicas", 3)), Deployment.class).getSpec().getReplicas())
                .isEqualTo(3);
    }

    @Test
    void podsRunAsNonRootOnAReadOnlyRootWithHeapFromValues() {
        List<HasMetadata> objects = CHART.render(Map.of("worker.heap", "12g", "gateway.heap", "768m"));
        Map<String, String> heaps = Map.of(GATEWAY, "-Xmx768m", WORKER, "-Xmx12g");
        for (HasMetadata owner : List.of(one(objects, Deployment.class), one(objects, StatefulSet.class))) {
            PodTemplateSpec pod = owner instanceof Deployment d ? d.getSpec().getTemplate()
                    : ((StatefulSet) owner).getSpec().getTemplate();
            assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
            Container main = container(pod);
            assertThat(main.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
            assertThat(main.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            assertThat(main.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
            assertThat(mount(main, "tmp").getMountPath()).isEqualTo("/tmp");
            assertThat(volume(pod.getSpec(), "tmp").getEmptyDir()).isNotNull();
            assertThat(env(main, "JAVA_TOOL_OPTIONS").getValue().split(" ")).contains(
                    heaps.get(owner.getMetadata().getName()), "--add-modules=jdk.incubator.vector",
                    "-Dconfig.file=/etc/catena/application.conf");
            assertThat(mount(main, "config").getMountPath()).isEqualTo("/etc/catena");
            assertThat(pod.getMetadata().getAnnotations()).containsKey("checksum/config");
        }
        assertThat(container(one(objects, StatefulSet.class).getSpec().getTemplate()).getResources().getLimits())
                .containsKey("memory");
    }

    @Test
    void rbacIsAbsentAndNoTokenIsMountedWhenDiscoveryIsSeedsAndTheScalerIsOff() {
        List<HasMetadata> objects = CHART.render(Map.of());
        assertThat(all(objects, Role.class)).isEmpty();
        assertThat(all(objects, RoleBinding.class)).isEmpty();
        assertThat(one(objects, ServiceAccount.class).getAutomountServiceAccountToken()).isFalse();
        assertThat(one(objects, Deployment.class).getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .isFalse();
        assertThat(one(objects, StatefulSet.class).getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .isFalse();
    }

    @Test
    void rbacGrantsPodReadsForApiDiscoveryAndScaleForTheAutoscalerOnly() {
        List<HasMetadata> discovery = CHART.render(Map.of("cluster.discovery", "kubernetes-api"));
        assertThat(one(discovery, Role.class).getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("");
            assertThat(rule.getResources()).containsExactly("pods");
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("list", "watch");
        });
        assertThat(one(discovery, StatefulSet.class).getSpec().getTemplate().getSpec()
                .getAutomountServiceAccountToken()).isTrue();
        assertThat(one(discovery, Deployment.class).getSpec().getTemplate().getSpec()
                .getAutomountServiceAccountToken()).isTrue();

        List<HasMetadata> scaler = CHART.render(Map.of("autoscaling.workers.enabled", true));
        assertThat(one(scaler, Role.class).getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("apps");
            assertThat(rule.getResources()).containsExactly("statefulsets/scale");
            assertThat(rule.getResourceNames()).containsExactly(WORKER);
            assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "patch");
        });
        // Only the gateway (the plan owner) scales; workers with seed discovery need no token.
        assertThat(one(scaler, Deployment.class).getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .isTrue();
        assertThat(one(scaler, StatefulSet.class).getSpec().getTemplate().getSpec().getAutomountServiceAccountToken())
                .isFalse();
        RoleBinding binding = one(scaler, RoleBinding.class);
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getName()).isEqualTo(one(scaler, ServiceAccount.class).getMetadata().getName());
            assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
        });

        List<HasMetadata> off = CHART.render(Map.of("cluster.discovery", "kubernetes-api", "rbac.create", false));
        assertThat(all(off, Role.class)).isEmpty();
        assertThat(all(off, RoleBinding.class)).isEmpty();
    }

    @Test
    void apiDiscoveryReplacesTheSeedListWithTheReleaseSelectorAndPodIps() {
        List<HasMetadata> objects = CHART.render(Map.of("cluster.discovery", "kubernetes-api", "pipeline.replicas", 2));
        ConfigMap config = one(objects, ConfigMap.class);
        assertThat(config.getData().get("seed-nodes")).isEmpty();
        assertThat(config.getData().get("application.conf")).doesNotContain("seed-nodes");
        PodTemplateSpec gatewayPod = one(objects, Deployment.class).getSpec().getTemplate();
        PodTemplateSpec workerPod = one(objects, StatefulSet.class).getSpec().getTemplate();
        for (PodTemplateSpec pod : List.of(gatewayPod, workerPod)) {
            Container main = container(pod);
            assertThat(main.getArgs()).containsSequence("--discovery", "kubernetes-api")
                    .containsSequence("--k8s-founder-wait", "2m").doesNotContain("--seed-nodes");
            assertThat(env(main, "POD_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
                    .isEqualTo("metadata.namespace");
            assertThat(env(main, "POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
            assertThat(main.getEnv()).noneMatch(e -> e.getName().equals("CATENA_SEED_NODES"));
            // The selector every node watches matches every gateway and worker pod of the release.
            Map<String, String> selector = parseSelector(env(main, "CATENA_K8S_SELECTOR").getValue());
            assertThat(matches(selector, gatewayPod.getMetadata().getLabels())).isTrue();
            assertThat(matches(selector, workerPod.getMetadata().getLabels())).isTrue();
            assertThat(main.getPorts()).anyMatch(p -> p.getName().equals("pekko"));
        }
        // Seeds are pod IPs, so a worker advertises its pod IP (Pekko drops mail for other names).
        Container worker = container(workerPod);
        assertThat(env(worker, "CATENA_HOST").getValue()).isEqualTo("$(POD_IP)");
        assertThat(env(worker, "POD_IP").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP");
        assertThat(worker.getEnv()).extracting(EnvVar::getName).containsSubsequence("POD_IP", "CATENA_HOST");
    }

    @Test
    void workerAutoscalingOwnsTheStatefulSetCountAndTheGatewayPlansAutoReplicas() {
        List<HasMetadata> objects = CHART.render(Map.of("autoscaling.workers.enabled", true,
                "autoscaling.workers.minReplicas", 2, "autoscaling.workers.maxReplicas", 5, "pipeline.spares", 1,
                "autoscaling.workers.queueTime", "2s", "autoscaling.workers.kvUsage", 0.8));
        assertThat(one(objects, StatefulSet.class).getSpec().getReplicas()).isNull();
        assertThat(container(one(objects, Deployment.class).getSpec().getTemplate()).getArgs())
                .containsSequence("--replicas", "auto")
                .containsSequence("--autoscale-statefulset", WORKER)
                .containsSequence("--autoscale-min-replicas", "2")
                .containsSequence("--autoscale-max-replicas", "5")
                .containsSequence("--autoscale-spares", "1")
                .containsSequence("--autoscale-queue-time", "2s")
                .containsSequence("--autoscale-kv-usage", "0.8")
                .containsSequence("--autoscale-sustain-up", "60s")
                .containsSequence("--autoscale-sustain-idle", "15m")
                .containsSequence("--autoscale-cooldown-up", "3m")
                .containsSequence("--autoscale-cooldown-down", "10m")
                .containsSequence("--autoscale-interval", "5s");
        assertThat(container(one(CHART.render(Map.of()), Deployment.class).getSpec().getTemplate()).getArgs())
                .noneMatch(a -> a.startsWith("--autoscale")).containsSequence("--replicas", "1");
        assertThatThrownBy(() -> CHART.template(Map.of("autoscaling.workers.sustainUp", "one minute")))
                .hasMessageContaining("at '/autoscaling/workers/sustainUp'");
    }

    @Test
    void workerBudgetKeepsAWholeReplicaForOneAndTwoReplicas() {
        assertThat(workerBudget(Map.of("pipeline.replicas", 1))).as("1 replica, no spare").isEqualTo(0);
        assertThat(workerBudget(Map.of("pipeline.replicas", 2))).as("2 replicas").isEqualTo(1);
        assertThat(workerBudget(Map.of("pipeline.replicas", 2, "pipeline.stages", 4))).as("2 x 4 stages").isEqualTo(1);
        assertThat(workerBudget(Map.of("pipeline.replicas", 1, "pipeline.spares", 1))).as("1 + spare").isEqualTo(1);
        assertThat(workerBudget(Map.of("autoscaling.workers.enabled", true, "autoscaling.workers.minReplicas", 2)))
                .as("autoscaled, min 2").isEqualTo(1);
        assertThat(workerBudget(Map.of("pipeline.replicas", 1, "worker.pdb.maxUnavailable", 1))).as("explicit")
                .isEqualTo(1);
        assertThat(workerBudget(Map.of("pipeline.replicas", 3, "worker.pdb.maxUnavailable", 0))).as("explicit 0")
                .isEqualTo(0);
    }

    private static int workerBudget(Map<String, Object> values) {
        return all(CHART.render(values), PodDisruptionBudget.class).stream()
                .filter(p -> p.getMetadata().getName().equals(WORKER)).findFirst().orElseThrow()
                .getSpec().getMaxUnavailable().getIntVal();
    }

    @Test
    void workersGetTimeToDrainAndRollOneAtATime() {
        StatefulSet workers = one(CHART.render(Map.of("pipeline.replicas", 2, "worker.minReadySeconds", 90)),
                StatefulSet.class);
        PodSpec pod = workers.getSpec().getTemplate().getSpec();
        // The drain on SIGTERM takes at most 20 s (StageActor.DRAIN_TIMEOUT), then the node leaves.
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(60);
        assertThat(container(workers.getSpec().getTemplate()).getLifecycle()).as("no preStop: SIGTERM starts the drain")
                .isNull();
        assertThat(workers.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(workers.getSpec().getUpdateStrategy().getRollingUpdate().getPartition()).isZero();
        assertThat(workers.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable()).isNull();
        assertThat(workers.getSpec().getMinReadySeconds()).isEqualTo(90);
        assertThatThrownBy(() -> CHART.template(Map.of("worker.terminationGracePeriodSeconds", 10)))
                .hasMessageContaining("at '/worker/terminationGracePeriodSeconds': minimum: got 10, want 30");
    }

    @Test
    void testHookWaitsForHealthThenStreamsOneShortCompletionThroughTheService() {
        List<HasMetadata> objects = CHART.render(Map.of());
        Pod test = one(CHART.hooks(Map.of()), Pod.class);
        assertThat(test.getMetadata().getAnnotations()).containsEntry(ChartRenderer.HOOK_SEEN, "test");
        assertThat(test.getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(test.getSpec().getAutomountServiceAccountToken()).isFalse();
        Container health = test.getSpec().getInitContainers().getFirst();
        assertThat(health.getCommand()).containsExactly("catena");
        assertThat(health.getArgs()).containsExactly("health", "--target", GATEWAY + ":50051", "--wait", "5m");
        Container generate = container(new PodTemplateSpec(test.getMetadata(), test.getSpec()));
        assertThat(generate.getCommand()).containsExactly("catena");
        assertThat(generate.getArgs()).containsExactly("generate", "--target", GATEWAY + ":50051", "--max-tokens", "8",
                "--temperature", "0", "--timeout", "120", "Once upon a time");
        assertThat(generate.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        // No Service, budget or discovery selector of the release picks the test pod up.
        Map<String, String> labels = test.getMetadata().getLabels();
        assertThat(matches(service(objects, GATEWAY).getSpec().getSelector(), labels)).isFalse();
        assertThat(matches(parseSelector("app.kubernetes.io/name=catena,app.kubernetes.io/instance=demo"), labels))
                .isFalse();

        Pod tls = one(CHART.hooks(Map.of("security.tls.secretName", "gw-tls", "tests.apiKeySecret.name", "keys",
                "tests.apiKeySecret.key", "test")), Pod.class);
        assertThat(tls.getSpec().getInitContainers().getFirst().getArgs()).containsSequence("--tls-ca",
                "/etc/catena/tls/ca.crt");
        assertThat(env(tls.getSpec().getContainers().getFirst(), "CATENA_API_KEY").getValueFrom().getSecretKeyRef()
                .getName()).isEqualTo("keys");
        assertThat(all(CHART.hooks(Map.of("tests.enabled", false)), Pod.class)).isEmpty();
        assertThat(all(objects, Pod.class)).as("the test pod is a hook, not part of the release").isEmpty();
    }

    private static Map<String, String> parseSelector(String selector) {
        Map<String, String> labels = new java.util.LinkedHashMap<>();
        for (String part : selector.split(",")) {
            labels.put(part.substring(0, part.indexOf('=')), part.substring(part.indexOf('=') + 1));
        }
        return labels;
    }

    @Test
    void schemaRejectsANegativeReplicaCount() {
        assertThatThrownBy(() -> CHART.template(Map.of("pipeline.replicas", -1)))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining("at '/pipeline/replicas': minimum: got -1, want 1");
        assertThatThrownBy(() -> CHART.template(Map.of("pipeline.stages", 0)))
                .hasMessageContaining("at '/pipeline/stages': minimum: got 0, want 1");
        assertThatThrownBy(() -> CHART.template(Map.of("model.sha256", "not-a-digest")))
                .hasMessageContaining("at '/model/sha256': 'not-a-digest' does not match pattern");
    }

    private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
        return !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
    }

    private static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = all(objects, type);
        assertThat(found).as("rendered %s objects", type.getSimpleName()).hasSize(1);
        return found.getFirst();
    }

    private static Service service(List<HasMetadata> objects, String name) {
        return all(objects, Service.class).stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no Service " + name));
    }

    private static Container container(PodTemplateSpec pod) {
        assertThat(pod.getSpec().getContainers()).hasSize(1);
        return pod.getSpec().getContainers().getFirst();
    }

    private static EnvVar env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.getName()));
    }

    private static Volume volume(PodSpec spec, String name) {
        return spec.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static VolumeMount mount(Container container, String name) {
        return container.getVolumeMounts().stream().filter(m -> m.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount " + name + " in " + container.getName()));
    }
}
