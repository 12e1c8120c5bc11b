package catena.shard.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ImportanceTest {
    @Test
    void shouldRoundTheKeptWidthToTheMultipleWhenAsked() {
        assertThat(Importance.keepCount(172, 0.25, 1)).isEqualTo(129);
        assertThat(Importance.keepCount(172, 0.25, 32)).isEqualTo(128);
        assertThat(Importance.keepCount(172, 0.125, 32)).isEqualTo(160);
        assertThat(Importance.keepCount(172, 0.5, 32)).isEqualTo(96);
        assertThat(Importance.keepCount(8192, 0.25, 32)).isEqualTo(6144);
        assertThat(Importance.keepCount(40, 0.9, 32)).isEqualTo(32);
        assertThat(Importance.keepCount(172, 0, 32)).isEqualTo(172);
    }

    @Test
    void shouldRejectARatioWhenOutsideZeroToOne() {
        assertThatThrownBy(() -> Importance.keepCount(64, 1.0, 1)).hasMessageContaining("ratio=1.0");
    }

    @Test
    void shouldKeepTheHighestScoresInIndexOrderWhenSelecting() {
        assertThat(Importance.keepTop(new double[] {0.5, 3, 1, 3, 0.1}, 3)).containsExactly(1, 2, 3);
    }

    @Test
    void shouldScoreNeuronsByActivationTimesDownNormWhenActivationAware() {
        // down [dim=2][ffn=3]: column norms 5, 1, 0
        float[] down = {3, 1, 0, 4, 0, 0};
        double[] s = Importance.neuronScores(Importance.Measure.ACTIVATION, new double[] {0.1, 2, 9}, down, null, 2, 3);
        assertThat(s).containsExactly(0.5, 2.0, 0.0);
    }

    @Test
    void shouldRemoveTheSameNumberFromEveryKvGroupWhenPruningHeads() {
        // 8 heads, 4 KV groups of 2: the weaker of each pair goes
        double[] score = {1, 2, 5, 3, 0.1, 0.2, 9, 8};
        assertThat(Importance.keptHeads(score, 4, 1)).containsExactly(1, 2, 5, 6);
        assertThatThrownBy(() -> Importance.keptHeads(score, 4, 2)).hasMessageContaining("expected within [0, 1]");
    }

    @Test
    void shouldDropTheLayerThatTurnsTheResidualLeastWhenDroppingOne() {
        assertThat(Importance.layersToDrop(new double[] {0.7, 0.9, 0.95, 0.8}, 1)).containsExactly(2);
        assertThat(Importance.layersToDrop(new double[] {0.7, 0.9, 0.95, 0.8}, 2)).containsExactly(1, 2);
    }

    @Test
    void shouldChooseTheSurgeonWhenRepairingAndRmsOtherwise() {
        assertThat(Importance.defaultMeasure(true)).isEqualTo(Importance.Measure.OBS);
        assertThat(Importance.defaultMeasure(false)).isEqualTo(Importance.Measure.RMS);
    }

    @Test
    void shouldRefusePerNeuronScoresWhenTheMeasureSelectsASet() {
        assertThatThrownBy(() -> Importance.neuronScores(Importance.Measure.OBS, new double[2], new float[2], null, 1, 2))
                .hasMessageContaining("SurgeonSelection");
    }
}
