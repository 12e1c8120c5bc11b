package catena.gateway.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.discovery.PodView;
import catena.gateway.discovery.SeedSelection;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The informer against the fabric8 mock API server (CRUD mode): pods the test creates and deletes. */
@EnableKubernetesMockClient(crud = true)
class PodWatchTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    KubernetesMockServer server;
    KubernetesClient client;

    @Test
    void shouldChangeTheSeedListWhenPodsAreCreatedAndDeleted() {
        var selection = new SeedSelection(Duration.ofMinutes(2));
        var latest = new AtomicReference<List<PodView>>(List.of());
        Pods.create(client, Pods.pod("w-0", "10.1.0.1", 2552, T0, Pods.RELEASE));
        try (PodWatch watch = new PodWatch(client, Pods.NAMESPACE, Pods.RELEASE, latest::set)) {
            assertThat(watch.snapshot()).extracting(PodView::name).containsExactly("w-0");

            Pods.create(client, Pods.pod("w-1", "10.1.0.2", 2552, T0.plusSeconds(5), Pods.RELEASE));
            Pods.create(client, Pods.pod("other-0", "10.1.0.9", 2552, T0, Map.of("app.kubernetes.io/name", "catena",
                    "app.kubernetes.io/instance", "another-release")));
            await().atMost(Duration.ofSeconds(10)).until(() -> latest.get().size() == 2);
            assertThat(selection.decide("w-1", latest.get(), T0.plusSeconds(10)))
                    .isEqualTo(new SeedSelection.Join(List.of("10.1.0.1:2552", "10.1.0.2:2552")));

            Pods.delete(client, "w-0");
            await().atMost(Duration.ofSeconds(10)).until(() -> latest.get().size() == 1);
            assertThat(selection.decide("w-1", latest.get(), T0.plusSeconds(20)))
                    .isEqualTo(new SeedSelection.Join(List.of("10.1.0.2:2552")));

            Pods.create(client, Pods.pod("w-0", null, 2552, T0.plusSeconds(30), Pods.RELEASE));
            await().atMost(Duration.ofSeconds(10)).until(() -> latest.get().size() == 2);
            assertThat(latest.get()).filteredOn(p -> p.name().equals("w-0")).singleElement()
                    .satisfies(p -> assertThat(p.reachable()).isFalse());
            assertThat(selection.decide("w-0", latest.get(), T0.plusSeconds(31)))
                    .isInstanceOf(SeedSelection.Wait.class);
        }
    }

    @Test
    void shouldReadTheAddressAndAgeOfAPod() {
        PodView v = PodWatch.view(Pods.pod("w-3", "10.1.0.4", 2560, T0, Pods.RELEASE));
        assertThat(v).isEqualTo(new PodView("w-3", "10.1.0.4", true, false, T0, 2560));
    }

    @Test
    void shouldParseEqualitySelectorsAndNameTheBadPart() {
        assertThat(PodWatch.parseSelector("app.kubernetes.io/name=catena, app.kubernetes.io/instance=r1"))
                .containsExactly(Map.entry("app.kubernetes.io/name", "catena"),
                        Map.entry("app.kubernetes.io/instance", "r1"));
        assertThatThrownBy(() -> PodWatch.parseSelector("app!=catena"))
                .hasMessage("--k8s-selector=app!=catena: 'app!=catena' is not key=value (only equality selectors"
                        + " are supported)");
        assertThatThrownBy(() -> PodWatch.parseSelector("tier in (a,b)"))
                .hasMessageStartingWith("--k8s-selector=tier in (a,b): 'tier in (a' is not key=value");
    }
}
