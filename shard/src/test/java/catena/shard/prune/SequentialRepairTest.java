package catena.shard.prune;

import static org.assertj.core.api.Assertions.assertThat;

import catena.shard.gguf.GgmlType;
import catena.shard.gguf.GgufFile;
import catena.shard.gguf.GgufWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequentialRepairTest {
    @TempDir
    Path tmp;

    @Test
    void shouldNotRefitAttentionWhenTheLayerHasAPostAttentionNorm() throws Exception {
        GgufWriter w = new GgufWriter();
        Tensors.add(w, "blk.0.post_attention_norm.weight", new float[4], 1, 4, GgmlType.F32);
        Tensors.add(w, "blk.1.attn_norm.weight", new float[4], 1, 4, GgmlType.F32);
        Path f = tmp.resolve("norms.gguf");
        w.write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(SequentialRepair.attentionRefittable(g, 0)).isFalse();
            assertThat(SequentialRepair.attentionRefittable(g, 1)).isTrue();
        }
    }

    @Test
    void shouldSeeAChangedInputOnlyAfterAPrunedOrDroppedLayer() {
        PrunePlan plan = PrunePlan.none(4);
        assertThat(SequentialRepair.upstreamChanged(plan, 3)).isFalse();
        plan.keptHeads()[1] = new int[] {0, 2};
        assertThat(SequentialRepair.upstreamChanged(plan, 1)).isFalse();
        assertThat(SequentialRepair.upstreamChanged(plan, 2)).isTrue();
        PrunePlan dropped = PrunePlan.none(4);
        dropped.dropped()[0] = true;
        assertThat(SequentialRepair.upstreamChanged(dropped, 1)).isTrue();
        PrunePlan ffn = PrunePlan.none(4);
        ffn.keptNeurons()[2] = new int[] {1};
        assertThat(SequentialRepair.upstreamChanged(ffn, 2)).isFalse();
        assertThat(SequentialRepair.upstreamChanged(ffn, 3)).isTrue();
    }
}
