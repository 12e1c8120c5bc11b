package catena.gateway.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.Map;

/** Pods as the kubelet would leave them, written into the mock API server. */
final class Pods {
    static final String NAMESPACE = "serving";
    static final Map<String, String> RELEASE = Map.of("app.kubernetes.io/name", "catena",
            "app.kubernetes.io/instance", "r1");

    private Pods() {
    }

    /** A pod of the release; {@code ip} null = not started yet (Pending, no IP). */
    static Pod pod(String name, String ip, int pekkoPort, Instant created, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).withLabels(labels)
                .withCreationTimestamp(created.toString()).endMetadata()
                .withNewSpec().addNewContainer().withName("worker").withImage("catena")
                .addNewPort().withName("pekko").withContainerPort(pekkoPort).endPort().endContainer().endSpec()
                .withNewStatus().withPhase(ip == null ? "Pending" : "Running").withPodIP(ip).endStatus().build();
    }

    static void create(KubernetesClient client, Pod pod) {
        client.pods().inNamespace(NAMESPACE).resource(pod).create();
    }

    static void delete(KubernetesClient client, String name) {
        client.pods().inNamespace(NAMESPACE).withName(name).delete();
    }
}
