package catena.gateway.scaling;

import java.time.Duration;

/**
 * The bounds, thresholds and timings of {@link ReplicaScaler}, as the chart's values give them.
 *
 * @param stages pods per replica; every decision is a multiple of it
 * @param minReplicas replicas kept however idle the fleet is (at least 1)
 * @param maxReplicas replicas never exceeded however loaded the fleet is
 * @param queueTimeThreshold queue time at or above which the fleet is under pressure
 * @param kvUsageThreshold KV usage fraction at or above which the fleet is under pressure
 * @param sustainUp how long pressure must last, unbroken, before a replica is added
 * @param sustainIdle how long the fleet must stay idle, unbroken, before it shrinks to the minimum
 * @param cooldownUp time after any change before the next scale-up (a new replica needs time to
 *     load its shard and take load)
 * @param cooldownDown time after any change before a scale-down
 */
public record ScalingPolicy(
    int stages,
    int minReplicas,
    int maxReplicas,
    Duration queueTimeThreshold,
    double kvUsageThreshold,
    Duration sustainUp,
    Duration sustainIdle,
    Duration cooldownUp,
    Duration cooldownDown) {

  /** Validates the fields, naming the one that is out of range. */
  public ScalingPolicy {
    if (stages < 1) {
      throw new IllegalArgumentException("scaling policy: stages=" + stages + ", expected >= 1");
    }
    if (minReplicas < 1) {
      throw new IllegalArgumentException(
          "scaling policy: minReplicas=" + minReplicas + ", expected >= 1");
    }
    if (maxReplicas < minReplicas) {
      throw new IllegalArgumentException(
          "scaling policy: maxReplicas="
              + maxReplicas
              + ", expected >= minReplicas="
              + minReplicas);
    }
    if (!(kvUsageThreshold > 0.0 && kvUsageThreshold <= 1.0)) {
      throw new IllegalArgumentException(
          "scaling policy: kvUsageThreshold=" + kvUsageThreshold + ", expected a value in (0, 1]");
    }
    requirePositive("queueTimeThreshold", queueTimeThreshold);
    requireNonNegative("sustainUp", sustainUp);
    requireNonNegative("sustainIdle", sustainIdle);
    requireNonNegative("cooldownUp", cooldownUp);
    requireNonNegative("cooldownDown", cooldownDown);
    // A replica count beyond this would overflow the worker count in int.
    Math.multiplyExact(maxReplicas, stages);
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "scaling policy: " + name + "=" + value + ", expected a duration > 0");
    }
  }

  private static void requireNonNegative(String name, Duration value) {
    if (value == null || value.isNegative()) {
      throw new IllegalArgumentException(
          "scaling policy: " + name + "=" + value + ", expected a duration >= 0");
    }
  }
}
