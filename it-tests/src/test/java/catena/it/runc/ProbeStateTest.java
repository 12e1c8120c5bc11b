package catena.it.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProbeStateTest {
    @Test
    void shouldStartFalseAndTurnTrueOnlyAfterSuccessThresholdPassesInARow() {
        ProbeState p = new ProbeState(2, 3);
        assertThat(p.state()).isFalse();
        assertThat(p.record(true)).isFalse();
        assertThat(p.record(false)).isFalse();
        assertThat(p.record(true)).isFalse();
        assertThat(p.record(true)).isTrue();
    }

    @Test
    void shouldStayTrueUntilFailureThresholdFailuresInARow() {
        ProbeState p = new ProbeState(1, 3);
        p.record(true);
        assertThat(p.record(false)).isTrue();
        assertThat(p.record(false)).isTrue();
        assertThat(p.record(true)).isTrue();
        assertThat(p.record(false)).isTrue();
        assertThat(p.record(false)).isTrue();
        assertThat(p.record(false)).isFalse();
    }

    @Test
    void shouldRefuseAThresholdBelowOneNamingIt() {
        assertThatThrownBy(() -> new ProbeState(0, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("successThreshold=0");
    }
}
