package catena.worker.plan;

import java.util.Arrays;

/**
 * Cuts layers into contiguous stages balanced by bytes: the split whose heaviest stage is the
 * lightest possible (exact dynamic programme over cut points; layer counts are small). Every
 * stage gets at least one layer; any stage count from 1 to the layer count is allowed.
 */
public final class StagePlan {
    private StagePlan() {
    }

    /**
     * Stage boundaries {@code b[0] = 0 < b[1] < ... < b[stages] = layerBytes.length}: stage i holds
     * layers [b[i], b[i+1]).
     */
    public static int[] split(long[] layerBytes, int stages) {
        int n = layerBytes.length;
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
                    if (best[k - 1][i] == Long.MAX_VALUE) {
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
        int[] bounds = new int[stages + 1];
        bounds[stages] = n;
        for (int k = stages; k > 0; k--) {
            bounds[k - 1] = cut[k][bounds[k]];
        }
        return bounds;
    }
}
