package catena.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {
    private static ReplicaLoad load(int replica, int sequences, int free, int prefix) {
        return new ReplicaLoad(replica, 1, sequences, 0, free, 100, prefix);
    }

    @Test
    void shouldPickTheLeastLoadedReplica() {
        assertThat(new Router(0).choose(List.of(load(0, 5, 50, 0), load(1, 2, 50, 0), load(2, 3, 50, 0)), 1))
                .isEqualTo(1);
    }

    @Test
    void shouldCountThisGatewaysSequencesAndOtherGatewaysAlike() {
        List<ReplicaLoad> l = List.of(new ReplicaLoad(0, 1, 2, 4, 50, 100, 0), new ReplicaLoad(1, 1, 3, 2, 50, 100, 0));
        assertThat(new Router(0).choose(l, 1)).isEqualTo(1);
    }

    @Test
    void shouldAvoidAReplicaWhoseFreeKvCannotHoldThePrompt() {
        assertThat(new Router(0).choose(List.of(load(0, 0, 3, 0), load(1, 9, 50, 0)), 10)).isEqualTo(1);
    }

    @Test
    void shouldPreferTheReplicaHoldingThePromptPrefixUnlessItIsMuchBusier() {
        Router router = new Router(0.5);
        assertThat(router.choose(List.of(load(0, 2, 50, 0), load(1, 4, 50, 8)), 10)).isEqualTo(1);
        assertThat(router.choose(List.of(load(0, 2, 50, 0), load(1, 9, 50, 8)), 10)).isEqualTo(0);
    }

    @Test
    void shouldBreakTiesByFreeKvThenIndexAndReturnMinusOneForNone() {
        Router router = new Router(0);
        assertThat(router.choose(List.of(load(0, 1, 10, 0), load(1, 1, 20, 0)), 1)).isEqualTo(1);
        assertThat(router.choose(List.of(load(0, 1, 10, 0), load(1, 1, 10, 0)), 1)).isZero();
        assertThat(router.choose(List.of(), 1)).isEqualTo(-1);
    }

    @Test
    void shouldNeverRepeatAnIdAndSeparateIncarnations() {
        SequenceIds a = new SequenceIds(1);
        SequenceIds b = new SequenceIds(2);
        long a1 = a.next();
        assertThat(a.next()).isNotEqualTo(a1);
        assertThat(b.next() >>> 40).isNotEqualTo(a1 >>> 40);
    }
}
