package catena.shard.prune;

import static catena.shard.prune.SyntheticLayer.N;
import static catena.shard.prune.SyntheticLayer.OUT;
import static catena.shard.prune.SyntheticLayer.T;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A synthetic pre-norm attention block: head outputs {@code a} ([T][N]), teacher projection Wo
 * ([OUT][N]), teacher residual {@code x_T}; the teacher's residual after attention is
 * {@code m_T = x_T + Wo a}. The student arrives with upstream error {@code x_S = x_T + E a}, a
 * linear function of its head outputs, so {@code V = Wo − E} compensates it exactly.
 */
class AttentionMomentsTest {
    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    /** {@code x + M a} row by row: [T][OUT]. */
    private static float[] plus(float[] x, float[] m, float[] a) {
        float[] y = x.clone();
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < OUT; o++) {
                double s = 0;
                for (int j = 0; j < N; j++) {
                    s += (double) m[o * N + j] * a[t * N + j];
                }
                y[t * OUT + o] += (float) s;
            }
        }
        return y;
    }

    @Test
    void shouldCompensateUpstreamErrorExactlyWhenItIsLinearInTheHeadOutputs() {
        SplittableRandom rng = new SplittableRandom(5);
        float[] a = SyntheticLayer.activations(rng, 0.7);
        float[] wo = gaussian(rng, OUT * N);
        float[] e = gaussian(rng, OUT * N);
        float[] xTeacher = gaussian(rng, T * OUT);
        float[] target = plus(xTeacher, wo, a);
        float[] xStudent = plus(xTeacher, e, a);
        AttentionMoments m = new AttentionMoments(0, OUT, N, target);
        m.add(a, xStudent, T);

        float[] v = m.refit(1e-9);
        float[] exact = new float[OUT * N];
        for (int i = 0; i < exact.length; i++) {
            exact[i] = wo[i] - e[i];
        }
        assertThat(v).containsExactly(exact, within(1e-3f));
        assertThat(m.relativeError(v)).isLessThan(1e-8);
        // without the refit the teacher's Wo leaves the upstream error in place
        assertThat(m.relativeError(wo)).isGreaterThan(0.3);
        assertThat(m.rows).isEqualTo(T);
    }

    @Test
    void shouldKeepTheTeachersProjectionWhenTheStudentInputIsTheTeachers() {
        SplittableRandom rng = new SplittableRandom(9);
        float[] a = SyntheticLayer.activations(rng, 0.5);
        float[] wo = gaussian(rng, OUT * N);
        float[] x = gaussian(rng, T * OUT);
        AttentionMoments m = new AttentionMoments(0, OUT, N, plus(x, wo, a));
        m.add(a, x, T);
        assertThat(m.refit(1e-9)).containsExactly(wo, within(1e-3f));
    }

    @Test
    void shouldMatchTheRowByRowErrorWhenGivenAnyProjection() {
        SplittableRandom rng = new SplittableRandom(13);
        float[] a = SyntheticLayer.activations(rng, 0.5);
        float[] target = gaussian(rng, T * OUT);
        float[] x = gaussian(rng, T * OUT);
        float[] v = gaussian(rng, OUT * N);
        AttentionMoments m = new AttentionMoments(0, OUT, N, target);
        // fed in two batches, as the engine feeds chunks
        int half = T / 2;
        m.add(java.util.Arrays.copyOf(a, half * N), java.util.Arrays.copyOf(x, half * OUT), half);
        m.add(java.util.Arrays.copyOfRange(a, half * N, T * N), java.util.Arrays.copyOfRange(x, half * OUT, T * OUT),
                T - half);
        float[] fit = plus(x, v, a);
        double err = 0;
        double energy = 0;
        for (int i = 0; i < T * OUT; i++) {
            double d = (double) target[i] - fit[i];
            double y = (double) target[i] - x[i];
            err += d * d;
            energy += y * y;
        }
        assertThat(m.relativeError(v)).isCloseTo(err / energy, within(1e-6 * err / energy));
        // the refit is the least-squares optimum: no worse than this arbitrary V
        assertThat(m.relativeError(m.refit(1e-3))).isLessThan(m.relativeError(v));
    }
}
