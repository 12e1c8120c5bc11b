package catena.worker.plan;

import java.util.Arrays;

/**
 * Cuts layers into contiguous stages balanced by bytes: the split whose heaviest stage is the
 * lightest possible (exact dynamic programme over cut points; layer counts are small). Every
 * stage gets at least one layer. Some models allow a stage to start only at certain layers
 * (Gemma 4 E-models share KV between layers, which must stay in one stage): the cut points are
 * then restricted to those.
 */
public final class StagePlan {
    private StagePlan() {
    }

    /**
     * Stage boundaries {@code b[0] = 0 < b[1] < ... < b[stages] = layerBytes.length}: stage i holds
     * layers [b[i], b[i+1]).
     */
    public static int[] split(long[] layerBytes, int stages) {
        boolean[] any = new boolean[layerBytes.length + 1];
        java.util.Arrays.fill(any, true);
        return split(layerBytes, stages, any);
    }

    /**
     * As {@link #split(long[], int)}, with cuts only at layers c where {@code allowedStarts[c]}
     * (length layer count + 1, as catena.shard.model.Model.stageBoundariesAllowed returns).
     */
    public static int[] split(long[] layerBytes, int stages, boolean[] allowedStarts) {
        int n = layerBytes.length;
        if (allowedStarts.length != n + 1) {
            throw new IllegalArgumentException("allowedStarts has " + allowedStarts.length + " entries, expected "
                    + (n + 1) + " (layer count + 1)");
        }
        if (stages < 1 || stages > n) {
            throw new IllegalArgumentException("stages=" + stages + ", expected 1.." + n + " (the layer count)");
        }
        long[] prefix = new long[n + 1];
        for (int i = 0; i < n; i++) {
            if (layerBytes[i] < 0) {
                throw new IllegalArgumentException("layer " + i + ": bytes=" + layerBytes[i] + ", expected >= 0");
            }
            prefix[i + 1] = prefix[i] + layerBytes[i];
        }
        // best[k][j]: smallest heaviest-stage bytes covering layers [0, j) with k stages.
        long[][] best = new long[stages + 1][n + 1];
        int[][] cut = new int[stages + 1][n + 1];
        for (long[] row : best) {
            Arrays.fill(row, Long.MAX_VALUE);
        }
        best[0][0] = 0;
        for (int k = 1; k <= stages; k++) {
            for (int j = k; j <= n - (stages - k); j++) {
                for (int i = k - 1; i < j; i++) {
                    if (best[k - 1][i] == Long.MAX_VALUE || (i > 0 && !allowedStarts[i])) {
                        continue;
                    }
                    long cost = Math.max(best[k - 1][i], prefix[j] - prefix[i]);
                    if (cost < best[k][j]) {
                        best[k][j] = cost;
                        cut[k][j] = i;
                    }
                }
            }
        }
        if (best[stages][n] == Long.MAX_VALUE) {
            StringBuilder legal = new StringBuilder();
            for (int c = 1; c < n; c++) {
                if (allowedStarts[c]) {
                    legal.append(legal.isEmpty() ? "" : ", ").append(c);
                }
            }
            throw new IllegalArgumentException("stages=" + stages + " cannot be cut from this model: a stage may "
                    + "start only at layer 0" + (legal.isEmpty() ? "" : " or " + legal) + ", so at most "
                    + (legal.isEmpty() ? 1 : legal.toString().split(", ").length + 1) + " stage(s)");
        }
        int[] bounds = new int[stages + 1];
        bounds[stages] = n;
        for (int k = stages; k > 0; k--) {
            bounds[k - 1] = cut[k][bounds[k]];
        }
        return bounds;
    }
}
