package catena.shard.prune;

/**
 * What the pruned file keeps, per layer of the input: {@code keptNeurons[l]} (ascending FFN
 * neuron indices, null = all), {@code keptHeads[l]} (ascending query heads, null = all),
 * {@code dropped[l]} (the layer is removed), and the repaired output projections that replace a
 * plain slice ({@code ffnDown[l]}: [dim][kept neurons], {@code attnOutput[l]}: [dim][kept heads·hd],
 * row-major; null = slice the teacher's). Arrays are owned by the plan and not copied.
 */
public record PrunePlan(int[][] keptNeurons, int[][] keptHeads, boolean[] dropped, float[][] ffnDown,
                        float[][] attnOutput) {

    public static PrunePlan none(int layers) {
        return new PrunePlan(new int[layers][], new int[layers][], new boolean[layers], new float[layers][],
                new float[layers][]);
    }

    public int layerCount() {
        return dropped.length;
    }

    /** Output layer index of input layer {@code l}, or -1 when it is dropped. */
    public int newIndex(int l) {
        if (dropped[l]) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < l; i++) {
            n += dropped[i] ? 0 : 1;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "PrunePlan[" + layerCount() + " layers]";
    }
}
