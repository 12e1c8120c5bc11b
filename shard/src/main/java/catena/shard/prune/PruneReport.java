package catena.shard.prune;

/**
 * What a prune did, per input layer: the FFN width and query heads kept (as in the input when not
 * pruned), whether the layer was dropped, and for repaired projections the relative
 * reconstruction error on the calibration activations, {@code Σ‖W h − V h_S‖² / Σ‖W h‖²}, of the
 * plain slice ({@code *Before}) and of the ridge refit ({@code *After}); NaN where not computed.
 */
public record PruneReport(long calibrationTokens, int[] ffnWidth, int[] heads, boolean[] dropped,
                          double[] ffnErrorBefore, double[] ffnErrorAfter, double[] attnErrorBefore,
                          double[] attnErrorAfter, double[] layerInfluence) {
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
        return "PruneReport[" + ffnWidth.length + " layers, " + calibrationTokens + " tokens]";
    }
}
