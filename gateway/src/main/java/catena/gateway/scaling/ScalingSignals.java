package catena.gateway.scaling;

import java.time.Duration;
import java.time.Instant;

/**
 * One observation of the load on the worker pool, fed to {@link ReplicaScaler#observe} by the
 * plan owner (or any component that sees the whole fleet) at a regular interval.
 *
 * @param at when the observation was made; observations must come in non-decreasing order
 * @param queueTime how long the oldest waiting request has waited for admission (zero when none
 *     waits); taken over the whole fleet, so one slow replica does not hide behind idle ones
 * @param kvUsageFraction the highest KV-cache usage fraction of any replica, in [0, 1]
 * @param activeSequences sequences being generated anywhere in the fleet
 * @param workerCount workers that belong to the pool now (the StatefulSet's ready pods)
 */
public record ScalingSignals(
    Instant at, Duration queueTime, double kvUsageFraction, int activeSequences, int workerCount) {

  /** Validates the fields, naming the one that is out of range. */
  public ScalingSignals {
    if (at == null) {
      throw new IllegalArgumentException("scaling signals: at=null, expected an instant");
    }
    if (queueTime == null || queueTime.isNegative()) {
      throw new IllegalArgumentException(
          "scaling signals: queueTime=" + queueTime + ", expected a duration >= 0");
    }
    if (!(kvUsageFraction >= 0.0 && kvUsageFraction <= 1.0)) {
      throw new IllegalArgumentException(
          "scaling signals: kvUsageFraction=" + kvUsageFraction + ", expected a value in [0, 1]");
    }
    if (activeSequences < 0) {
      throw new IllegalArgumentException(
          "scaling signals: activeSequences=" + activeSequences + ", expected >= 0");
    }
    if (workerCount < 0) {
      throw new IllegalArgumentException(
          "scaling signals: workerCount=" + workerCount + ", expected >= 0");
    }
  }

  /** True when nothing is generated and nothing waits: the state in which replicas may go. */
  public boolean idle() {
    return activeSequences == 0 && queueTime.isZero();
  }
}
