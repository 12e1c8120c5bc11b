package catena.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaOccupancyTest {

    @Test
    void shouldCountOwnSequencesAtOnceWithoutWaitingForAReport() {
        ReplicaOccupancy o = new ReplicaOccupancy();
        o.started(0);
        o.started(0);
        o.started(1);
        assertThat(o.own(0)).isEqualTo(2);
        assertThat(o.own(1)).isEqualTo(1);
        o.ended(0);
        assertThat(o.own(0)).isEqualTo(1);
        assertThat(o.others(0)).isZero();
    }

    @Test
    void shouldAttributeWhatAReportHoldsBeyondOwnSequencesToOtherGateways() {
        ReplicaOccupancy o = new ReplicaOccupancy();
        o.started(0);
        o.started(0);
        o.reported(0, 7);
        assertThat(o.others(0)).isEqualTo(5);
        // a report taken before this gateway's sequences arrived never makes "others" negative
        o.started(0);
        o.started(0);
        o.reported(0, 1);
        assertThat(o.others(0)).isZero();
        assertThat(o.own(0)).isEqualTo(4);
    }

    @Test
    void shouldNeverCountBelowZeroWhenAnEndIsRepeated() {
        ReplicaOccupancy o = new ReplicaOccupancy();
        o.ended(3);
        assertThat(o.own(3)).isZero();
    }

    /**
     * The case that split 16 streams 11 against 5: the report still shows the last wave's
     * sequences on one replica while the new wave arrives. Own counts alone must split it evenly.
     */
    @Test
    void shouldSplitABurstEvenlyWhenTheLastReportIsStale() {
        ReplicaOccupancy o = new ReplicaOccupancy();
        Router router = new Router(0);
        o.reported(0, 0);
        o.reported(1, 0);
        int[] placed = new int[2];
        for (int i = 0; i < 16; i++) {
            List<ReplicaLoad> loads = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                loads.add(new ReplicaLoad(r, 1, o.own(r), o.others(r), 1000, 1000, 0));
            }
            int chosen = router.choose(loads, 16);
            o.started(chosen);
            placed[chosen]++;
        }
        assertThat(placed).containsExactly(8, 8);
    }
}
