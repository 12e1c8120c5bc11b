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
        Router router = new Router(4);
        // 8 of 10 tokens cached: worth 3.2 sequences of load
        assertThat(router.choose(List.of(load(0, 2, 50, 0), load(1, 4, 50, 8)), 10)).isEqualTo(1);
        assertThat(router.choose(List.of(load(0, 2, 50, 0), load(1, 6, 50, 8)), 10)).isEqualTo(0);
    }

    @Test
    void shouldNotChooseAFullReplicaForAffinityAlone() {
        Router router = new Router(100);
        // replica 1 caches 8 of 40 tokens but has room for 20 of the other 32
        assertThat(router.choose(List.of(load(0, 5, 50, 0), load(1, 0, 20, 8)), 40)).isZero();
        // with room for the uncached part only, it fits
        assertThat(router.choose(List.of(load(0, 5, 50, 0), load(1, 0, 32, 8)), 40)).isEqualTo(1);
    }

    @Test
    void shouldIgnoreTheCacheWhenThePrefixWeightIsZero() {
        assertThat(new Router(0).choose(List.of(load(0, 1, 500, 0), load(1, 2, 500, 100)), 100)).isZero();
        assertThat(new Router(0).prefixAware()).isFalse();
    }

    @Test
    void shouldRefuseANegativePrefixWeight() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Router(-1))
                .hasMessage("prefixWeight=-1.0, expected >= 0");
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

    @Test
    void shouldPlaceAPromptCachedNowhereWhereTheCacheIsEmptiestWhenLoadsAreClose() {
        Router router = new Router(8);
        // replica 0 holds two system prompts (fill 0.8) and runs 1; replica 1 holds one (0.4) and runs 3
        List<ReplicaLoad> l = List.of(new ReplicaLoad(0, 1, 1, 0, 500, 1000, 0, 0.8),
                new ReplicaLoad(1, 1, 3, 0, 500, 1000, 0, 0.4));
        assertThat(router.choose(l, 1000)).isEqualTo(1);
        // much busier: load wins again
        List<ReplicaLoad> busy = List.of(new ReplicaLoad(0, 1, 1, 0, 500, 1000, 0, 0.8),
                new ReplicaLoad(1, 1, 6, 0, 500, 1000, 0, 0.4));
        assertThat(router.choose(busy, 1000)).isZero();
    }

    @Test
    void shouldIgnoreTheFillWhenSomeReplicaCachesThePromptOrRoutingIsLoadOnly() {
        List<ReplicaLoad> l = List.of(new ReplicaLoad(0, 1, 1, 0, 500, 1000, 0, 0.0),
                new ReplicaLoad(1, 1, 1, 0, 500, 1000, 900, 1.0));
        assertThat(new Router(8).choose(l, 1000)).as("affinity, not fill").isEqualTo(1);
        List<ReplicaLoad> cold = List.of(new ReplicaLoad(0, 1, 1, 0, 500, 1000, 0, 0.9),
                new ReplicaLoad(1, 1, 2, 0, 500, 1000, 0, 0.0));
        assertThat(new Router(0).choose(cold, 1000)).as("load only").isZero();
    }
}
