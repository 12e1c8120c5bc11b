package catena.gateway.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ServeReportTest {
    private static final long MS = 1_000_000;

    @Test
    void shouldComputeTtftTpotItlAndThroughputFromTheRecords() {
        // Request a: sent at 0, tokens at 100, 110, 130 ms, done at 130. Request b: sent at 50, tokens at 250, 270, done 300.
        RequestRecord a = new RequestRecord(0, new long[] {100 * MS, 110 * MS, 130 * MS}, 130 * MS, 10, null);
        RequestRecord b = new RequestRecord(50 * MS, new long[] {250 * MS, 270 * MS}, 300 * MS, 10, null);
        ServeReport r = new ServeReport(List.of(a, b), Goodput.NONE);
        var f = r.figures();
        assertThat(f.get("completed")).isEqualTo(2);
        assertThat(f.get("output_tokens")).isEqualTo(5L);
        assertThat(f.get("input_tokens")).isEqualTo(20L);
        assertThat((double) f.get("duration_s")).isEqualTo(0.3);
        assertThat((double) f.get("output_throughput_tok_s")).isCloseTo(5 / 0.3, org.assertj.core.data.Offset.offset(0.01));
        // TTFT 100 and 200 ms; TPOT a: 30/2 = 15 ms, b: 20 ms; ITL gaps 10, 20, 20 ms.
        assertThat((double) f.get("ttft_ms_mean")).isCloseTo(150, org.assertj.core.data.Offset.offset(0.2));
        assertThat((double) f.get("ttft_ms_p99")).isCloseTo(200, org.assertj.core.data.Offset.offset(0.2));
        assertThat((double) f.get("tpot_ms_mean")).isCloseTo(17.5, org.assertj.core.data.Offset.offset(0.05));
        assertThat((double) f.get("itl_ms_median")).isCloseTo(20, org.assertj.core.data.Offset.offset(0.05));
        assertThat((double) f.get("e2el_ms_median")).isCloseTo(130, org.assertj.core.data.Offset.offset(0.2));
    }

    @Test
    void shouldCountFailuresApartAndGoodputOnlyForRequestsWithinTheSlo() {
        RequestRecord fast = new RequestRecord(0, new long[] {50 * MS, 60 * MS}, 60 * MS, 4, null);
        RequestRecord slowFirst = new RequestRecord(0, new long[] {500 * MS, 510 * MS}, 510 * MS, 4, null);
        RequestRecord failed = new RequestRecord(0, new long[0], 1000 * MS, 4, "UNAVAILABLE: gone");
        ServeReport r = new ServeReport(List.of(fast, slowFirst, failed), Goodput.parse("ttft:100,tpot:50"));
        assertThat(r.completed()).isEqualTo(2);
        assertThat(r.failed()).isEqualTo(1);
        assertThat((double) r.figures().get("goodput_req_s")).isEqualTo(1.0); // 1 good request over 1 s
        assertThat(r.table()).contains("First error:").contains("UNAVAILABLE: gone");
    }

    @Test
    void shouldRefuseAMalformedGoodputNamingTheOption() {
        assertThatThrownBy(() -> Goodput.parse("ttft=5")).hasMessageContaining("--goodput=ttft=5");
        assertThatThrownBy(() -> Goodput.parse("e2e:5")).hasMessageContaining("unknown metric 'e2e'");
    }

    @Test
    void shouldSetTheFirstRequestsTtftAgainstTheMedianOfTheOthersWhenTheyShareAPrefix() {
        // sent out of order: the first sent (at 0) has TTFT 1000 ms, the others 100, 200, 300 ms
        RequestRecord first = new RequestRecord(0, new long[] {1000 * MS}, 1000 * MS, 10, null);
        RequestRecord b = new RequestRecord(2000 * MS, new long[] {2200 * MS}, 2200 * MS, 10, null);
        RequestRecord c = new RequestRecord(1000 * MS, new long[] {1100 * MS}, 1100 * MS, 10, null);
        RequestRecord d = new RequestRecord(3000 * MS, new long[] {3300 * MS}, 3300 * MS, 10, null);
        var f = new ServeReport(List.of(b, first, c, d), Goodput.NONE).figures();
        assertThat((double) f.get("ttft_first_ms")).isEqualTo(1000.0);
        assertThat((double) f.get("ttft_later_ms_median")).isCloseTo(200, org.assertj.core.data.Offset.offset(0.2));
        assertThat((double) f.get("ttft_later_over_first")).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.001));
    }

    @Test
    void shouldGiveEachOfTheGroupsPrefixToAsManyPromptsInAShuffledOrder() {
        List<int[]> p = PromptSet.make(40, 20, 16, 4, 100, 1000, 9);
        java.util.Map<Integer, Integer> perGroup = new java.util.HashMap<>();
        java.util.Map<Integer, Integer> groupOf = new java.util.HashMap<>();
        boolean roundRobin = true;
        for (int i = 0; i < p.size(); i++) {
            int key = p.get(i)[0] * 100_000 + p.get(i)[15];
            perGroup.merge(key, 1, Integer::sum);
            int g = groupOf.computeIfAbsent(key, k -> groupOf.size());
            roundRobin &= g == i % 4;
        }
        assertThat(perGroup).hasSize(4).allSatisfy((k, v) -> assertThat(v).isEqualTo(10));
        assertThat(roundRobin).as("groups in a shuffled order, not in turn").isFalse();
        assertThat(p.get(0)[16]).isNotEqualTo(p.get(1)[16]);
        assertThat(PromptSet.make(40, 20, 16, 4, 100, 1000, 9).get(7)).containsExactly(p.get(7));
    }
}
