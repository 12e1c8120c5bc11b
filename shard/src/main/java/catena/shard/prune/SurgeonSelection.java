package catena.shard.prune;

import java.util.Arrays;

/**
 * Which inputs of an output projection to remove when the kept ones are refitted afterwards
 * (Optimal Brain Surgeon, applied to whole neurons as SparseGPT / SlimGPT / "LLM Surgeon" do). The
 * teacher computes {@code y = W h} (W: [out][n]); with {@code A = G + λI} ({@code G = Σ h hᵀ},
 * λ = alpha · trace(G) / n as in {@link Ridge}) and {@code H = A⁻¹}, removing the set R and refitting
 * the rest optimally costs {@code tr(W_R (H_RR)⁻¹ W_Rᵀ)} (a Schur complement of A), not the
 * {@code Σ_{j∈R} W_j G_jj W_jᵀ} an activation-times-weight score predicts. Two neurons that fire
 * alike can stand in for each other, so one of them costs nearly nothing to remove.
 *
 * <p>The set is chosen greedily, one neuron per step: the neuron with the least
 * {@code ‖w'_j‖² / H_jj} goes, where {@code w'} are the columns already compensated for the earlier
 * removals; then {@code W'} absorbs the removed column ({@code W' −= w'_j H_j,: / H_jj}) and
 * {@code H} becomes the inverse of the remaining block by the rank-one downdate
 * {@code H −= H_:,j H_j,: / H_jj}. The step costs are the exact increments of the joint cost, so
 * correlated neurons are seen as the set grows. One neuron per step is the most accurate greedy
 * order, and its cost, {@code O(n² + out·n)} per removal, stays below the {@code O(n³)} initial
 * inverse, so no batching is needed. All in double precision.
 */
final class SurgeonSelection {
    private final int out;
    private final int n;
    /** Inverse of the alive block of A; rows/columns of removed inputs are zero. */
    private final double[] inv;
    /** Compensated projection, [out][n]; removed columns are zero. */
    private final double[] w;
    private final boolean[] alive;
    private double cost;

    private SurgeonSelection(float[] w, int out, int n, double[] g, double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("surgeon selection: alpha=" + alpha + ", expected > 0");
        }
        this.out = out;
        this.n = n;
        this.inv = inverse(g, n, alpha);
        this.w = new double[out * n];
        for (int i = 0; i < w.length; i++) {
            this.w[i] = w[i];
        }
        this.alive = new boolean[n];
        Arrays.fill(alive, true);
    }

    /**
     * The {@code keep} inputs (ascending) of {@code w} ([out][n], row-major) that a greedy surgeon
     * keeps given the inputs' Gram matrix {@code g} ([n][n]); alpha as in {@link Ridge#refit}.
     */
    static int[] keep(float[] w, int out, int n, double[] g, int keep, double alpha) {
        if (keep < 1 || keep > n) {
            throw new IllegalArgumentException("keep=" + keep + ", expected within [1, " + n + "]");
        }
        SurgeonSelection s = start(w, out, n, g, alpha);
        for (int r = n - keep; r > 0; r--) {
            s.remove(s.cheapest());
        }
        return s.kept();
    }

    /** The selection state before any removal. */
    static SurgeonSelection start(float[] w, int out, int n, double[] g, double alpha) {
        return new SurgeonSelection(w, out, n, g, alpha);
    }

    /** The cost of removing alive input {@code j} now and compensating with the rest: {@code ‖w'_j‖² / H_jj}. */
    double stepCost(int j) {
        double s = 0;
        for (int o = 0; o < out; o++) {
            double v = w[o * n + j];
            s += v * v;
        }
        return s / inv[j * n + j];
    }

    /** The alive input whose removal costs least (ties: the lower index). */
    int cheapest() {
        int best = -1;
        double least = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (alive[j]) {
                double c = stepCost(j);
                if (c < least) {
                    least = c;
                    best = j;
                }
            }
        }
        if (best < 0) {
            throw new IllegalStateException("surgeon selection: no input left to remove");
        }
        return best;
    }

    /** Removes alive input {@code j}: compensates {@code W'} and downdates {@code H} by rank one. */
    void remove(int j) {
        if (!alive[j]) {
            throw new IllegalArgumentException("surgeon selection: input " + j + " is already removed");
        }
        cost += stepCost(j);
        double d = inv[j * n + j];
        double[] hj = Arrays.copyOfRange(inv, j * n, j * n + n);
        for (int o = 0; o < out; o++) {
            double f = w[o * n + j] / d;
            if (f != 0) {
                for (int i = 0; i < n; i++) {
                    w[o * n + i] -= f * hj[i];
                }
            }
            w[o * n + j] = 0; // exactly, not by cancellation
        }
        for (int a = 0; a < n; a++) {
            double f = hj[a] / d;
            if (f != 0) {
                int row = a * n;
                for (int b = 0; b < n; b++) {
                    inv[row + b] -= f * hj[b];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            inv[j * n + i] = 0;
            inv[i * n + j] = 0;
        }
        alive[j] = false;
    }

    /**
     * The sum of the step costs so far: the least {@code Σ_t ‖W h_t − V h_{kept,t}‖² + λ‖W − V‖²} over V
     * (V zero on the removed columns), i.e. the joint cost of the removed set.
     */
    double cost() {
        return cost;
    }

    /** The alive inputs, ascending. */
    int[] kept() {
        int k = 0;
        for (boolean a : alive) {
            k += a ? 1 : 0;
        }
        int[] kept = new int[k];
        for (int j = 0, i = 0; j < n; j++) {
            if (alive[j]) {
                kept[i++] = j;
            }
        }
        return kept;
    }

    /** {@code H[a][b]} for alive a, b: the inverse of the alive block of {@code G + λI}. */
    double inverse(int a, int b) {
        return inv[a * n + b];
    }

    /** The compensated projection's entry {@code W'[o][j]}. */
    double weight(int o, int j) {
        return w[o * n + j];
    }

    /** {@code (g + λI)⁻¹} by Cholesky, [n][n], λ as {@link Ridge#lambda} sets it for the whole layer. */
    static double[] inverse(double[] g, int n, double alpha) {
        double[] a = g.clone();
        Ridge.regularize(a, n, alpha);
        Ridge.cholesky(a, n);
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            x[i * n + i] = 1;
        }
        Ridge.solve(a, n, x, n);
        // symmetric in exact arithmetic; averaging removes the rounding asymmetry the downdates would carry
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double m = 0.5 * (x[i * n + j] + x[j * n + i]);
                x[i * n + j] = m;
                x[j * n + i] = m;
            }
        }
        return x;
    }
}
