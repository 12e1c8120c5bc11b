package catena.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplayLogTest {

    @Test
    void shouldDeliverStepsInOrderAndResumeWithThePromptPlusThem() {
        ReplayLog log = new ReplayLog(new int[] {1, 2, 3}, 10);
        assertThat(log.accept(0, 40)).isEqualTo(ReplayLog.Verdict.DELIVER);
        assertThat(log.accept(1, 41)).isEqualTo(ReplayLog.Verdict.DELIVER);
        assertThat(log.resumePrompt()).containsExactly(1, 2, 3, 40, 41);
        assertThat(log.delivered()).isEqualTo(2);
        assertThat(log.remaining()).isEqualTo(8);
    }

    @Test
    void shouldDropATokenOfAStepAlreadyDeliveredWhenTheLostReplicaSendsItLate() {
        ReplayLog log = new ReplayLog(new int[] {1}, 10);
        log.accept(0, 40);
        log.accept(1, 41);
        assertThat(log.accept(1, 99)).isEqualTo(ReplayLog.Verdict.DUPLICATE);
        assertThat(log.accept(0, 40)).isEqualTo(ReplayLog.Verdict.DUPLICATE);
        assertThat(log.resumePrompt()).containsExactly(1, 40, 41);
    }

    @Test
    void shouldReportAGapWhenAStepIsSkipped() {
        ReplayLog log = new ReplayLog(new int[] {1}, 10);
        assertThat(log.accept(1, 41)).isEqualTo(ReplayLog.Verdict.GAP);
        assertThat(log.delivered()).isZero();
    }

    @Test
    void shouldGrowBeyondItsInitialCapacity() {
        ReplayLog log = new ReplayLog(new int[] {7}, 100);
        for (int i = 0; i < 50; i++) {
            assertThat(log.accept(i, i)).isEqualTo(ReplayLog.Verdict.DELIVER);
        }
        assertThat(log.resumePrompt()).hasSize(51).endsWith(49);
    }
}
