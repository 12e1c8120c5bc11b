package catena.gateway.scaling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReplicaScalerTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  /**
   * stages 2, replicas 1..3, queue time 500 ms or KV 0.9 is pressure; pressure must last 30 s, idle
   * 300 s; up cooldown 60 s, down cooldown 600 s.
   */
  private static ScalingPolicy policy() {
    return new ScalingPolicy(
        2,
        1,
        3,
        Duration.ofMillis(500),
        0.9,
        Duration.ofSeconds(30),
        Duration.ofSeconds(300),
        Duration.ofSeconds(60),
        Duration.ofSeconds(600));
  }

  /**
   * Each step: "seconds queueMs kvUsage activeSequences workerCount -> desiredWorkerCount". The
   * table runs each case through one fresh scaler and checks every step's answer.
   */
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "load below thresholds keeps the count",
            List.of("0 100 0.5 4 2 -> 2", "60 100 0.5 4 2 -> 2", "600 499 0.89 4 2 -> 2")),
        Arguments.of(
            "sustained queue time adds stages workers",
            List.of("0 800 0.5 8 2 -> 2", "10 800 0.5 8 2 -> 2", "30 800 0.5 8 2 -> 4")),
        Arguments.of(
            "a break in pressure restarts the sustain window",
            List.of(
                "0 800 0.5 8 2 -> 2",
                "20 100 0.5 8 2 -> 2",
                "40 800 0.5 8 2 -> 2",
                "69 800 0.5 8 2 -> 2",
                "70 800 0.5 8 2 -> 4")),
        Arguments.of(
            "KV usage alone is pressure",
            List.of("0 0 0.95 8 2 -> 2", "30 0 0.9 8 2 -> 4")),
        Arguments.of(
            "the up cooldown delays the next replica",
            List.of(
                "0 800 0.5 8 2 -> 2",
                "30 800 0.5 8 2 -> 4",
                "60 800 0.5 8 4 -> 4",
                "89 800 0.5 8 4 -> 4",
                "90 800 0.5 8 4 -> 6")),
        Arguments.of(
            "pressure never goes past the maximum",
            List.of("0 800 0.95 8 6 -> 6", "30 800 0.95 8 6 -> 6", "600 800 0.95 8 6 -> 6")),
        Arguments.of(
            "sustained idle shrinks to the minimum",
            List.of("0 0 0.0 0 6 -> 6", "299 0 0.0 0 6 -> 6", "300 0 0.0 0 6 -> 2")),
        Arguments.of(
            "one active sequence restarts the idle window",
            List.of(
                "0 0 0.0 0 6 -> 6",
                "200 0 0.1 1 6 -> 6",
                "300 0 0.0 0 6 -> 6",
                "599 0 0.0 0 6 -> 6",
                "600 0 0.0 0 6 -> 2")),
        Arguments.of(
            "the down cooldown holds a fresh replica",
            List.of(
                "0 800 0.5 8 2 -> 2",
                "30 800 0.5 8 2 -> 4",
                "31 0 0.0 0 4 -> 4",
                "331 0 0.0 0 4 -> 4",
                "629 0 0.0 0 4 -> 4",
                "630 0 0.0 0 4 -> 2")),
        Arguments.of(
            "below the minimum is raised at once", List.of("0 0 0.0 0 0 -> 2", "1 0 0.0 0 1 -> 2")),
        Arguments.of("above the maximum is lowered at once", List.of("0 0 0.5 4 8 -> 6")),
        Arguments.of(
            "a partial replica counts as the whole replicas it holds",
            List.of("0 100 0.5 4 5 -> 4", "1 800 0.5 4 3 -> 2", "31 800 0.5 4 3 -> 4")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldDecideWorkerCountWhenSignalsFollowTable(String name, List<String> steps) {
    ReplicaScaler scaler = new ReplicaScaler(policy());
    List<String> actual = new ArrayList<>();
    for (String step : steps) {
      String[] sides = step.split(" -> ");
      actual.add(sides[0] + " -> " + scaler.observe(signals(sides[0])));
    }
    assertThat(actual).containsExactlyElementsOf(steps);
  }

  @Test
  void shouldRejectObservationWhenTimeGoesBack() {
    ReplicaScaler scaler = new ReplicaScaler(policy());
    scaler.observe(signals("10 0 0.0 0 2"));
    assertThatThrownBy(() -> scaler.observe(signals("9 0 0.0 0 2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at=2026-01-01T00:00:09Z");
  }

  @Test
  void shouldNameFieldWhenPolicyIsInvalid() {
    assertThatThrownBy(
            () ->
                new ScalingPolicy(
                    2,
                    3,
                    2,
                    Duration.ofMillis(500),
                    0.9,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO))
        .hasMessage("scaling policy: maxReplicas=2, expected >= minReplicas=3");
    assertThatThrownBy(
            () ->
                new ScalingPolicy(
                    0,
                    1,
                    2,
                    Duration.ofMillis(500),
                    0.9,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO,
                    Duration.ZERO))
        .hasMessage("scaling policy: stages=0, expected >= 1");
  }

  @Test
  void shouldNameFieldWhenSignalIsOutOfRange() {
    assertThatThrownBy(() -> new ScalingSignals(T0, Duration.ZERO, 1.5, 0, 2))
        .hasMessage("scaling signals: kvUsageFraction=1.5, expected a value in [0, 1]");
    assertThatThrownBy(() -> new ScalingSignals(T0, Duration.ofSeconds(-1), 0.0, 0, 2))
        .hasMessage("scaling signals: queueTime=PT-1S, expected a duration >= 0");
  }

  private static ScalingSignals signals(String row) {
    String[] f = row.trim().split(" +");
    return new ScalingSignals(
        T0.plusSeconds(Long.parseLong(f[0])),
        Duration.ofMillis(Long.parseLong(f[1])),
        Double.parseDouble(f[2]),
        Integer.parseInt(f[3]),
        Integer.parseInt(f[4]));
  }
}
