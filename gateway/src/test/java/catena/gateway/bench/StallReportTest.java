package catena.gateway.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StallReportTest {
    private static final long MS = 1_000_000;

    /** A stream sent at 0 whose tokens arrive at the given milliseconds. */
    private static RequestRecord stream(long... ms) {
        long[] t = new long[ms.length];
        for (int i = 0; i < ms.length; i++) {
            t[i] = ms[i] * MS;
        }
        return new RequestRecord(0, t, t[t.length - 1] + MS, 4, null);
    }

    @Test
    void shouldChargeGapsToTheWindowTheirLaterTokenFallsIn() {
        // The long prompt is sent at 1000 ms and gives its first token at 1600 ms.
        RequestRecord interferer = new RequestRecord(1000 * MS, new long[] {1600 * MS}, 1601 * MS, 2000, null);
        RequestRecord a = stream(100, 200, 300, 1000, 1100, 1500, 1700);
        RequestRecord b = stream(150, 250, 950, 1200, 1800);
        StallReport r = new StallReport(List.of(a, b), interferer);
        // Before: after both decode (150 ms) up to the send: a 200-100, 300-200, 1000-300; b 250-150, 950-250.
        assertArrayEquals(new long[] {100 * MS, 100 * MS, 100 * MS, 700 * MS, 700 * MS},
                StallReport.gaps(List.of(a, b), 150 * MS, 1000 * MS));
        // During: a 1100-1000, 1500-1100; b 1200-950.
        assertArrayEquals(new long[] {100 * MS, 250 * MS, 400 * MS},
                StallReport.gaps(List.of(a, b), 1000 * MS, 1600 * MS));
        assertEquals(700 * MS, r.p99BeforeNanos());
        assertEquals(400 * MS, r.p99DuringNanos());
        assertEquals(400.0 / 700, r.p99Ratio(), 1e-12);
        assertEquals(0, r.streamsEndedEarly());
    }

    @Test
    void shouldTakeTheNearestRankQuantile() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(99, StallReport.quantile(sorted, 0.99));
        assertEquals(50, StallReport.quantile(sorted, 0.5));
        assertEquals(100, StallReport.quantile(sorted, 1));
        assertEquals(-1, StallReport.quantile(new long[0], 0.99));
    }

    @Test
    void shouldCountStreamsThatEndBeforeThePrefillDoes() {
        RequestRecord interferer = new RequestRecord(1000 * MS, new long[] {3000 * MS}, 3001 * MS, 2000, null);
        StallReport r = new StallReport(List.of(stream(100, 200, 900, 1100), stream(100, 300, 800, 3100)), interferer);
        assertEquals(1, r.streamsEndedEarly());
    }

    @Test
    void shouldRefuseWhenNothingDecodedBeforeTheSend() {
        RequestRecord interferer = new RequestRecord(100 * MS, new long[] {900 * MS}, 901 * MS, 2000, null);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new StallReport(List.of(stream(200, 300, 400)), interferer));
        assertEquals("no inter-token gap before the long prompt was sent: send it later", e.getMessage());
    }

    @Test
    void shouldRefuseWhenTheLongPromptFailed() {
        RequestRecord failed = new RequestRecord(100 * MS, new long[0], 200 * MS, 2000, "RESOURCE_EXHAUSTED");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new StallReport(List.of(stream(10, 20, 30)), failed));
        assertEquals("the long prompt did not complete: RESOURCE_EXHAUSTED", e.getMessage());
    }
}
