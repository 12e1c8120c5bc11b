package catena.shard.prune;

/**
 * Layer-wise repair of an output projection by ridge regression in closed form. The teacher
 * computes {@code y = W h} (W: [out][n]); the student keeps the inputs {@code S} (k of the n) and
 * gets {@code V} ([out][k]) minimizing {@code Σ_t ‖W h_t − V h_{S,t}‖² + λ‖V‖²}, so
 * {@code V = W G[:,S] (G[S,S] + λI)⁻¹} with {@code G = Σ_t h_t h_tᵀ}. The normal equations are
 * solved in double precision by Cholesky (the matrix is symmetric positive definite for λ &gt; 0).
 * λ is relative: {@code lambda = alpha · trace(G[S,S]) / k}, so one alpha suits any activation scale.
 */
public final class Ridge {
    private Ridge() {
    }

    /**
     * The refitted {@code V} ([out][k], row-major) for teacher {@code w} ([out][n], row-major),
     * Gram {@code g} ([n][n]) and kept inputs {@code keep} (ascending indices into n).
     */
    public static float[] refit(float[] w, int out, int n, double[] g, int[] keep, double alpha) {
        if (alpha <= 0) {
            throw new IllegalArgumentException("ridge: alpha=" + alpha + ", expected > 0");
        }
        int k = keep.length;
        double[] a = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                a[i * k + j] = g[keep[i] * n + keep[j]];
            }
        }
        regularize(a, k, alpha);
        // b = G[S,:] Wᵀ: [k][out]
        double[] b = new double[k * out];
        for (int i = 0; i < k; i++) {
            int gi = keep[i] * n;
            for (int o = 0; o < out; o++) {
                double s = 0;
                int wo = o * n;
                for (int j = 0; j < n; j++) {
                    s += g[gi + j] * w[wo + j];
                }
                b[i * out + o] = s;
            }
        }
        return solve(a, k, b, out, 0);
    }

    /**
     * {@code V} ([out][k]) with {@code V (A + λI) = Bᵀ}: the ridge solution for Gram {@code a}
     * ([k][k], of the student's inputs) and cross moments {@code b} ([k][out], Σ h_S yᵀ), with
     * {@code λ = alpha · trace(a) / k}. {@code a} and {@code b} are overwritten.
     */
    public static float[] solve(double[] a, int k, double[] b, int out, double alpha) {
        if (alpha > 0) {
            regularize(a, k, alpha);
        }
        cholesky(a, k);
        solve(a, k, b, out);
        float[] v = new float[out * k];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < k; i++) {
                v[o * k + i] = (float) b[i * out + o];
            }
        }
        return v;
    }

    /** The columns {@code keep} of {@code w} ([out][n]): the student without repair. */
    public static float[] columns(float[] w, int out, int n, int[] keep) {
        float[] v = new float[out * keep.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < keep.length; i++) {
                v[o * keep.length + i] = w[o * n + keep[i]];
            }
        }
        return v;
    }

    /**
     * {@code Σ_t ‖W h_t − V h_{S,t}‖²} from the Gram matrix alone:
     * {@code tr(W G Wᵀ) − 2 tr(V G[S,:] Wᵀ) + tr(V G[S,S] Vᵀ)}.
     */
    public static double error(float[] w, float[] v, int out, int n, double[] g, int[] keep) {
        int k = keep.length;
        double e = 0;
        double[] gw = new double[n];
        for (int o = 0; o < out; o++) {
            // gw = G w_o
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += g[i * n + j] * w[o * n + j];
                }
                gw[i] = s;
            }
            double ww = 0;
            for (int i = 0; i < n; i++) {
                ww += w[o * n + i] * gw[i];
            }
            double vw = 0;
            double vv = 0;
            for (int i = 0; i < k; i++) {
                double vi = v[o * k + i];
                vw += vi * gw[keep[i]];
                double s = 0;
                for (int j = 0; j < k; j++) {
                    s += g[keep[i] * n + keep[j]] * v[o * k + j];
                }
                vv += vi * s;
            }
            e += ww - 2 * vw + vv;
        }
        return e;
    }

    /**
     * {@code Σ_t ‖y_t − V h_{P,t}‖² = Σ‖y‖² − 2 tr(V C_P) + tr(V G_PP Vᵀ)} from the moments of a fit to
     * targets y: {@code energy} = Σ‖y‖², {@code gram} = Σ h hᵀ ([n][n]), {@code cross} = Σ h yᵀ
     * ([n][out]); {@code v} ([out][p]) reads the inputs at positions {@code pos} (into n).
     */
    static double residual(double energy, double[] gram, int n, double[] cross, int out, int[] pos, float[] v) {
        int p = pos.length;
        double e = energy;
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < p; i++) {
                double vi = v[o * p + i];
                e -= 2 * vi * cross[pos[i] * out + o];
                double s = 0;
                for (int j = 0; j < p; j++) {
                    s += gram[pos[i] * n + pos[j]] * v[o * p + j];
                }
                e += vi * s;
            }
        }
        return e;
    }

    /** {@code Σ_t ‖W h_t‖²}: the teacher output's energy, to make {@link #error} relative. */
    public static double energy(float[] w, int out, int n, double[] g) {
        return error(w, new float[out * n], out, n, g, identity(n));
    }

    /** {@code 0, 1, ..., n-1}: every input kept. */
    static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    /** The ridge λ for Gram {@code a} ([k][k]): {@code alpha · trace(a) / k} (alpha itself when the trace is 0). */
    static double lambda(double[] a, int k, double alpha) {
        double trace = 0;
        for (int i = 0; i < k; i++) {
            trace += a[i * k + i];
        }
        return alpha * (trace > 0 ? trace / k : 1);
    }

    /** Adds {@link #lambda} to the diagonal of {@code a} in place. */
    static void regularize(double[] a, int k, double alpha) {
        double lambda = lambda(a, k, alpha);
        for (int i = 0; i < k; i++) {
            a[i * k + i] += lambda;
        }
    }

    /** In place: the lower triangle of {@code a} ([k][k]) becomes L with a = L Lᵀ. */
    static void cholesky(double[] a, int k) {
        for (int j = 0; j < k; j++) {
            double d = a[j * k + j];
            for (int p = 0; p < j; p++) {
                d -= a[j * k + p] * a[j * k + p];
            }
            if (!(d > 0)) {
                throw new IllegalStateException("ridge: normal matrix is not positive definite at pivot " + j
                        + " (value " + d + ")");
            }
            double l = Math.sqrt(d);
            a[j * k + j] = l;
            for (int i = j + 1; i < k; i++) {
                double s = a[i * k + j];
                for (int p = 0; p < j; p++) {
                    s -= a[i * k + p] * a[j * k + p];
                }
                a[i * k + j] = s / l;
            }
        }
    }

    /** Solves L Lᵀ X = B in place on {@code b} ([k][m]) given the factor from {@link #cholesky}. */
    static void solve(double[] l, int k, double[] b, int m) {
        for (int c = 0; c < m; c++) {
            for (int i = 0; i < k; i++) {
                double s = b[i * m + c];
                for (int p = 0; p < i; p++) {
                    s -= l[i * k + p] * b[p * m + c];
                }
                b[i * m + c] = s / l[i * k + i];
            }
            for (int i = k - 1; i >= 0; i--) {
                double s = b[i * m + c];
                for (int p = i + 1; p < k; p++) {
                    s -= l[p * k + i] * b[p * m + c];
                }
                b[i * m + c] = s / l[i * k + i];
            }
        }
    }
}
