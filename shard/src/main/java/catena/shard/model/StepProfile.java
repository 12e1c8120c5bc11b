package catena.shard.model;

import java.util.EnumMap;
import java.util.Map;

/**
 * Where a model's forward time goes, by step of the layer: what {@code catena-shard bench --profile}
 * prints. Off by default ({@link Model#profile} is null); when on, each step boundary costs one
 * {@code System.nanoTime()} (about 20 ns, some 15 per layer). Not thread-safe: one per model, which
 * runs one forward at a time.
 */
public final class StepProfile {
    /** The steps, in the order a layer runs them. */
    public enum Phase {
        NORMS("rms norms, residual adds, scaling"),
        QKV("q/k/v projections"),
        HEAD_NORM_ROPE("q/k head norms and RoPE"),
        KV_STORE("KV cache append"),
        ATTENTION("attention over the cache"),
        ATTN_OUTPUT("attention output projection"),
        FFN_GATE_UP("FFN gate and up projections"),
        FFN_ACTIVATION("FFN gate activation"),
        FFN_DOWN("FFN down projection"),
        EXPERTS("routed experts (MoE)"),
        PER_LAYER_INPUT("per-layer inputs (Gemma 4)"),
        OUTPUT_HEAD("final norm and output head");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final long[] nanos = new long[Phase.values().length];
    private long last;

    /** Starts the clock: the time up to the next {@link #mark} is charged to that mark's phase. */
    void start() {
        last = System.nanoTime();
    }

    /** Charges the time since the last start or mark to {@code p}. */
    void mark(Phase p) {
        long now = System.nanoTime();
        nanos[p.ordinal()] += now - last;
        last = now;
    }

    public void reset() {
        java.util.Arrays.fill(nanos, 0);
    }

    /** Accumulated nanoseconds per phase, in layer order. */
    public Map<Phase, Long> nanos() {
        Map<Phase, Long> m = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) {
            m.put(p, nanos[p.ordinal()]);
        }
        return m;
    }
}
