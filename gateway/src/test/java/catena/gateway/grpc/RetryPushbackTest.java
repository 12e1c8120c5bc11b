package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPushbackTest {
    @Test
    void shouldAdviseTheDelayWhenARefusalMayBeRetried() {
        assertThat(RetryPushback.trailers(true, Duration.ofSeconds(1)).get(RetryPushback.KEY)).isEqualTo("1000");
    }

    @Test
    void shouldAdviseNeverWhenARefusalForRoomCanNeverFit() {
        assertThat(RetryPushback.trailers(true, null).get(RetryPushback.KEY)).isEqualTo("-1");
    }

    @Test
    void shouldAdviseNothingForOtherFailures() {
        assertThat(RetryPushback.trailers(false, null).containsKey(RetryPushback.KEY)).isFalse();
    }
}
