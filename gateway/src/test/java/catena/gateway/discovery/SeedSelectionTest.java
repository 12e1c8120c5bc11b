package catena.gateway.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeedSelectionTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    private final SeedSelection selection = new SeedSelection(Duration.ofMinutes(2));

    private static PodView running(String name, String ip, int createdSecond) {
        return new PodView(name, ip, true, false, T0.plusSeconds(createdSecond), 2552);
    }

    private static PodView pending(String name, int createdSecond) {
        return new PodView(name, "", false, false, T0.plusSeconds(createdSecond), 2552);
    }

    private SeedSelection.Decision decide(String self, List<PodView> pods, int nowSecond) {
        return selection.decide(self, pods, T0.plusSeconds(nowSecond));
    }

    @Test
    void shouldWaitWhenOwnPodIsNotSeenYet() {
        var d = decide("w-2", List.of(running("w-0", "10.0.0.1", 0)), 10);
        assertThat(d).isEqualTo(new SeedSelection.Wait("own pod w-2 not seen yet"));
    }

    @Test
    void shouldWaitWhenOwnPodHasNoIpYet() {
        var d = decide("w-1", List.of(running("w-0", "10.0.0.1", 0), pending("w-1", 1)), 10);
        assertThat(d).isInstanceOf(SeedSelection.Wait.class);
        assertThat(((SeedSelection.Wait) d).reason()).contains("w-1").contains("ip=none");
    }

    @Test
    void shouldListReachablePodsOldestFirstWhenSelfIsYounger() {
        var pods = List.of(running("w-2", "10.0.0.3", 5), running("gw-x", "10.0.0.9", 1),
                running("w-0", "10.0.0.1", 3));
        var d = decide("w-2", pods, 10);
        assertThat(d).isEqualTo(new SeedSelection.Join(List.of("10.0.0.9:2552", "10.0.0.1:2552", "10.0.0.3:2552")));
    }

    @Test
    void shouldPutSelfFirstWhenSelfIsTheOldestReachablePod() {
        var d = decide("w-0", List.of(running("w-1", "10.0.0.2", 2), running("w-0", "10.0.0.1", 1)), 10);
        assertThat(d).isEqualTo(new SeedSelection.Join(List.of("10.0.0.1:2552", "10.0.0.2:2552")));
    }

    @Test
    void shouldOrderByNameWhenPodsWereCreatedInTheSameSecond() {
        var d = decide("w-1", List.of(running("w-1", "10.0.0.2", 1), running("w-0", "10.0.0.1", 1)), 10);
        assertThat(d).isEqualTo(new SeedSelection.Join(List.of("10.0.0.1:2552", "10.0.0.2:2552")));
    }

    @Test
    void shouldGiveEveryNodeTheSameFirstSeedWhenTheySeeTheSamePods() {
        var pods = List.of(running("w-0", "10.0.0.1", 4), running("w-1", "10.0.0.2", 2),
                running("w-2", "10.0.0.3", 3));
        for (String self : List.of("w-0", "w-1", "w-2")) {
            var d = (SeedSelection.Join) decide(self, pods, 10);
            assertThat(d.seeds().getFirst()).as("first seed of %s", self).isEqualTo("10.0.0.2:2552");
        }
    }

    @Test
    void shouldWaitWhenAnOlderPodIsStillPendingAndSelfWouldFoundTheCluster() {
        var d = decide("w-1", List.of(pending("w-0", 0), running("w-1", "10.0.0.2", 1)), 30);
        assertThat(d).isEqualTo(new SeedSelection.Wait("older pod w-0 is not reachable yet: it founds the cluster"));
    }

    @Test
    void shouldStopWaitingForAPendingOlderPodWhenItsGraceHasPassed() {
        var pods = List.of(pending("w-0", 0), running("w-1", "10.0.0.2", 1));
        assertThat(decide("w-1", pods, 119)).isInstanceOf(SeedSelection.Wait.class);
        assertThat(decide("w-1", pods, 120)).isEqualTo(new SeedSelection.Join(List.of("10.0.0.2:2552")));
    }

    @Test
    void shouldJoinWithoutWaitingWhenAnOlderReachablePodExistsBesideAPendingOne() {
        var pods = List.of(running("w-0", "10.0.0.1", 0), pending("w-1", 1), running("w-2", "10.0.0.3", 2));
        assertThat(decide("w-2", pods, 5)).isEqualTo(new SeedSelection.Join(List.of("10.0.0.1:2552",
                "10.0.0.3:2552")));
    }

    @Test
    void shouldLeaveOutTerminatingPodsAndPodsWithoutAPekkoPort() {
        var pods = List.of(new PodView("w-0", "10.0.0.1", true, true, T0, 2552),
                new PodView("helm-test", "10.0.0.7", true, false, T0, 0), running("w-1", "10.0.0.2", 1));
        assertThat(decide("w-1", pods, 5)).isEqualTo(new SeedSelection.Join(List.of("10.0.0.2:2552")));
    }

    @Test
    void shouldNameTheFieldWhenAPodViewIsInvalid() {
        assertThatThrownBy(() -> new PodView("w-0", "10.0.0.1", true, false, T0, 70000))
                .hasMessage("pod w-0: pekkoPort=70000, expected 0..65535");
        assertThatThrownBy(() -> new SeedSelection(Duration.ofSeconds(-1)))
                .hasMessage("seed selection: pendingGrace=PT-1S, expected a duration >= 0");
    }
}
