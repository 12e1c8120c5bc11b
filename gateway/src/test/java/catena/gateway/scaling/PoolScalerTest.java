package catena.gateway.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PoolScalerTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");
    private static final List<StageLoad> QUEUED = List.of(new StageLoad(8, 2, 60, 64), new StageLoad(8, 0, 60, 64));
    private static final List<StageLoad> IDLE = List.of(new StageLoad(0, 0, 0, 64), new StageLoad(0, 0, 0, 64));

    /** A pool that remembers what it was asked. */
    private static final class FakePool implements WorkerPool {
        int size;
        final List<Integer> requests = new ArrayList<>();

        FakePool(int size) {
            this.size = size;
        }

        @Override
        public int replicas() {
            return size;
        }

        @Override
        public void scaleTo(int replicas) {
            requests.add(replicas);
            size = replicas;
        }
    }

    private static ScalingPolicy policy() {
        return new ScalingPolicy(2, 1, 3, Duration.ofSeconds(2), 0.95, Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(60), Duration.ofSeconds(120));
    }

    @Test
    void shouldKeepTheSparesOutOfTheDecisionAndOnTopOfEveryNewSize() {
        FakePool pool = new FakePool(2 + 1);
        PoolScaler s = new PoolScaler(policy(), 1, pool);
        assertThat(s.observe(T0, QUEUED)).isEmpty();
        // queue non-empty since T0; 2 s later it counts as queue time, pressure must last 30 s more
        assertThat(s.observe(T0.plusSeconds(2), QUEUED)).isEmpty();
        assertThat(s.observe(T0.plusSeconds(31), QUEUED)).isEmpty();
        assertThat(s.observe(T0.plusSeconds(32), QUEUED)).isEqualTo(OptionalInt.of(4 + 1));
        assertThat(pool.requests).containsExactly(5);
    }

    @Test
    void shouldLeaveAHandScaledPartialReplicaAloneWhenNoDecisionIsDue() {
        FakePool pool = new FakePool(5);
        PoolScaler s = new PoolScaler(policy(), 0, pool);
        assertThat(s.observe(T0, IDLE)).isEmpty();
        assertThat(s.observe(T0.plusSeconds(59), IDLE)).isEmpty();
        assertThat(pool.requests).isEmpty();
        // idle for the whole window: down to the minimum (1 replica of 2 stages)
        assertThat(s.observe(T0.plusSeconds(60), IDLE)).isEqualTo(OptionalInt.of(2));
        assertThat(pool.requests).containsExactly(2);
    }
}
