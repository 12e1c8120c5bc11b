package catena.gateway.bridge;

import java.time.Duration;

/**
 * What a transport's warm-up calls to its own endpoint did: how many calls, how many failed (and
 * the first failure, null if none), how long they took.
 */
public record WarmupResult(String transport, int calls, int failed, Duration took, String firstProblem) {
}
