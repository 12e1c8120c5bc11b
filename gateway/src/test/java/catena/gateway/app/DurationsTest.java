package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void shouldReadEveryUnitWhenTheValueIsWellFormed() {
        assertThat(Durations.parse("--x", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("--x", " 30S ")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("--x", "10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Durations.parse("--x", "1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("--x", "0s")).isZero();
    }

    @Test
    void shouldNameTheOptionAndValueWhenTheDurationIsMalformedNegativeOrHuge() {
        for (String bad : new String[] {"", "10", "ten s", "5d", "-1s", "9999999999999999h", "367d", "8785h"}) {
            assertThatThrownBy(() -> Durations.parse("--autoscale-interval", bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--autoscale-interval=" + bad + ", expected a duration from 0 to 366 days such as"
                            + " 500ms, 30s, 10m or 1h");
        }
    }
}
