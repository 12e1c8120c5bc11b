package catena.gateway.scaling;

import java.time.Duration;
import java.time.Instant;

/**
 * Decides the worker count of the pool from a series of {@link ScalingSignals}, in whole replicas
 * (multiples of {@link ScalingPolicy#stages()}).
 *
 * <p>Rules, in order: a pool outside [min, max] replicas is brought inside at once (no cooldown:
 * below the minimum nothing can be served well, above the maximum is a mistake); pressure (queue
 * time or KV usage at or above its threshold) that lasts {@code sustainUp} without a break adds
 * <em>one</em> replica, since a replica takes its time to load and the next observation shows
 * whether it sufficed; an idle fleet for {@code sustainIdle} shrinks to the minimum, since an idle
 * pool has no load to place. Cooldowns count from the last change this scaler asked for.
 *
 * <p>Partial replicas (a worker count that is not a multiple of stages, e.g. during a rollout)
 * count as the whole replicas they contain: the decision rounds down, never asks for a fraction.
 *
 * <p>Not thread-safe: one owner (the plan owner) feeds it from one thread.
 */
public final class ReplicaScaler {

  private final ScalingPolicy policy;
  private Instant lastObservation;
  private Instant pressureSince;
  private Instant idleSince;
  private Instant lastChange;

  /** A scaler with no history: the first observation starts every sustain window. */
  public ReplicaScaler(ScalingPolicy policy) {
    if (policy == null) {
      throw new IllegalArgumentException("replica scaler: policy=null, expected a policy");
    }
    this.policy = policy;
  }

  /**
   * Takes one observation and returns the desired worker count: {@code signals.workerCount()}
   * rounded down to whole replicas when no change is due, otherwise the new count.
   *
   * @throws IllegalArgumentException when {@code signals.at()} is before the previous observation
   */
  public int observe(ScalingSignals signals) {
    Instant now = signals.at();
    if (lastObservation != null && now.isBefore(lastObservation)) {
      throw new IllegalArgumentException(
          "replica scaler: at="
              + now
              + ", expected an instant not before the previous observation at "
              + lastObservation);
    }
    lastObservation = now;
    trackWindows(signals, now);

    int replicas = signals.workerCount() / policy.stages();
    int desired = decide(replicas, now);
    if (desired != replicas) {
      lastChange = now;
      pressureSince = null;
      idleSince = null;
    }
    return desired * policy.stages();
  }

  private void trackWindows(ScalingSignals signals, Instant now) {
    boolean pressure =
        signals.queueTime().compareTo(policy.queueTimeThreshold()) >= 0
            || signals.kvUsageFraction() >= policy.kvUsageThreshold();
    pressureSince = pressure ? (pressureSince == null ? now : pressureSince) : null;
    idleSince = signals.idle() ? (idleSince == null ? now : idleSince) : null;
  }

  private int decide(int replicas, Instant now) {
    if (replicas < policy.minReplicas()) {
      return policy.minReplicas();
    }
    if (replicas > policy.maxReplicas()) {
      return policy.maxReplicas();
    }
    if (lasted(pressureSince, now, policy.sustainUp())
        && cooledDown(now, policy.cooldownUp())
        && replicas < policy.maxReplicas()) {
      return replicas + 1;
    }
    if (lasted(idleSince, now, policy.sustainIdle())
        && cooledDown(now, policy.cooldownDown())
        && replicas > policy.minReplicas()) {
      return policy.minReplicas();
    }
    return replicas;
  }

  private static boolean lasted(Instant since, Instant now, Duration sustain) {
    return since != null && Duration.between(since, now).compareTo(sustain) >= 0;
  }

  private boolean cooledDown(Instant now, Duration cooldown) {
    return lastChange == null || Duration.between(lastChange, now).compareTo(cooldown) >= 0;
  }
}
