package catena.worker.actor;

import java.time.Instant;

/** Wall-clock microseconds, comparable between the JVMs of one host (and NTP-synced hosts). */
final class WallClock {
    private WallClock() {
    }

    static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }
}
