package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code catena serve --discovery / --autoscale-*}: contradictory or missing options are refused, named. */
class ServeCommandKubernetesTest {

    private static String refused(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            code = Main.run(args);
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(Main.EXIT_BAD_INPUT);
        return err.toString(StandardCharsets.UTF_8).strip();
    }

    @Test
    void shouldRefuseAnUnknownDiscoveryMode() {
        assertThat(refused("serve", "--role", "worker", "--discovery", "dns"))
                .contains("--discovery=dns, expected seeds or kubernetes-api");
    }

    @Test
    void shouldRefuseSeedNodesTogetherWithApiDiscovery() {
        assertThat(refused("serve", "--role", "worker", "--discovery", "kubernetes-api", "--seed-nodes", "h:2552",
                "--k8s-namespace", "ns", "--k8s-selector", "a=b", "--k8s-pod-name", "w-0"))
                .isEqualTo("catena: --seed-nodes and --discovery kubernetes-api exclude each other");
    }

    @Test
    void shouldRefuseApiDiscoveryWithoutANamespace() {
        assertThat(refused("serve", "--role", "worker", "--discovery", "kubernetes-api", "--k8s-namespace", "",
                "--k8s-selector", "a=b", "--k8s-pod-name", "w-0"))
                .isEqualTo("catena: --k8s-namespace=, expected the pods' namespace for --discovery kubernetes-api"
                        + " (or POD_NAMESPACE in the environment)");
    }

    @Test
    void shouldRefuseTheAutoscalerOutsideTheGatewayRole() {
        assertThat(refused("serve", "--role", "worker", "--seed-nodes", "h:2552", "--autoscale-statefulset", "w"))
                .isEqualTo("catena: --autoscale-statefulset=w is for --role gateway (the plan owner runs the"
                        + " autoscaler), not --role worker");
    }

    @Test
    void shouldRefuseABadDuration() {
        assertThat(refused("serve", "--role", "worker", "--discovery", "kubernetes-api", "--k8s-namespace", "ns",
                "--k8s-selector", "a=b", "--k8s-pod-name", "w-0", "--k8s-founder-wait", "soon"))
                .isEqualTo("catena: --k8s-founder-wait=soon, expected a duration from 0 to 366 days such as 500ms, 30s, 10m or 1h");
    }
}
