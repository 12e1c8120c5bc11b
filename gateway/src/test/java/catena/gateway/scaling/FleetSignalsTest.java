package catena.gateway.scaling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetSignalsTest {
    private static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");

    @Test
    void shouldAgeTheQueueWhileAnyStageHasSequencesWaiting() {
        FleetSignals f = new FleetSignals();
        List<StageLoad> queued = List.of(new StageLoad(4, 0, 10, 100), new StageLoad(4, 3, 90, 100));
        assertThat(f.observe(T0, queued, 2).queueTime()).isZero();
        assertThat(f.observe(T0.plusSeconds(5), queued, 2).queueTime()).isEqualTo(Duration.ofSeconds(5));
        ScalingSignals s = f.observe(T0.plusSeconds(9), queued, 2);
        assertThat(s.queueTime()).isEqualTo(Duration.ofSeconds(9));
        assertThat(s.kvUsageFraction()).isEqualTo(0.9);
        assertThat(s.activeSequences()).isEqualTo(4 + 3);
        assertThat(s.workerCount()).isEqualTo(2);
    }

    @Test
    void shouldRestartTheQueueAgeWhenTheQueueEmpties() {
        FleetSignals f = new FleetSignals();
        List<StageLoad> queued = List.of(new StageLoad(4, 1, 10, 100));
        f.observe(T0, queued, 2);
        assertThat(f.observe(T0.plusSeconds(5), List.of(new StageLoad(4, 0, 10, 100)), 2).queueTime()).isZero();
        assertThat(f.observe(T0.plusSeconds(6), queued, 2).queueTime()).isZero();
        assertThat(f.observe(T0.plusSeconds(8), queued, 2).queueTime()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void shouldBeIdleWhenNoStageHoldsOrQueuesAnythingAndIgnoreUnloadedStagesForKv() {
        FleetSignals f = new FleetSignals();
        ScalingSignals s = f.observe(T0, List.of(new StageLoad(0, 0, 0, 0), new StageLoad(0, 0, 0, 64)), 4);
        assertThat(s.idle()).isTrue();
        assertThat(s.kvUsageFraction()).isZero();
        assertThat(f.observe(T0.plusSeconds(1), List.of(), 0).idle()).isTrue();
    }

    @Test
    void shouldNameTheFieldsWhenAStageLoadIsInconsistent() {
        assertThatThrownBy(() -> new StageLoad(1, 0, 65, 64)).hasMessage("stage load: sequences=1, waiting=0,"
                + " kvBlocksUsed=65, kvBlocksTotal=64, expected counts >= 0 and kvBlocksUsed <= kvBlocksTotal");
    }
}
