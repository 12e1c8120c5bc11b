package catena.shard.synth;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The named shapes {@code catena-shard synth --preset} knows. */
public final class Presets {
    private static final Map<String, SynthModel> ALL = new LinkedHashMap<>();

    static {
        add(new Gemma3Preset("gemma3-270m", 18, 640, 4, 1, 256, 2048, 262144, 32768, 512, 0f));
        add(new Gemma3Preset("gemma3-1b", 26, 1152, 4, 1, 256, 6912, 262144, 32768, 512, 0f));
        add(new Gemma3Preset("gemma3-4b", 34, 2560, 8, 4, 256, 10240, 262208, 131072, 1024, 8f));
        // Gemma 4 (GEMMA_SPEC.md §12.2): name, L, E, H, KV local/global, head dim local/global, FFN, FFN of
        // KV-shared layers (E2B's double-wide MLP), global every n-th layer, window, PLE width, KV-shared
        // layers, K=V on global layers, experts / used / expert FFN, vocabulary, context.
        add(new Gemma4Preset("gemma4-e2b", 35, 1536, 8, 1, 1, 256, 512, 6144, 12288, 5, 512, 256, 20, false,
                0, 0, 0, 262144, 131072));
        add(new Gemma4Preset("gemma4-e4b", 42, 2560, 8, 2, 2, 256, 512, 10240, 0, 6, 512, 256, 18, false,
                0, 0, 0, 262144, 131072));
        add(new Gemma4Preset("gemma4-26b-a4b", 30, 2816, 16, 8, 2, 256, 512, 2112, 0, 6, 1024, 0, 0, true,
                128, 8, 704, 262144, 262144));
        add(new Gemma4Preset("gemma4-31b", 60, 5376, 32, 16, 4, 256, 512, 21504, 0, 6, 1024, 0, 0, true,
                0, 0, 0, 262144, 262144));
        // The built-in model of `catena serve`: small enough to start in a second, real Gemma 3 math. Six layers,
        // not four: Gemma 3 makes every 6th layer global, so layer 5 is the one global layer and the demo runs
        // both attention kinds; the 128-token window is crossed by ordinary chats.
        add(new Gemma3Preset("demo-tiny", 6, 256, 4, 1, 64, 512, 2048, 2048, 128, 0f));
    }

    private Presets() {
    }

    public static synchronized void add(SynthModel m) {
        ALL.put(m.name(), m);
    }

    public static synchronized SynthModel get(String name) {
        SynthModel m = ALL.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + String.join(", ", ALL.keySet()));
        }
        return m;
    }

    public static synchronized Map<String, SynthModel> all() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(ALL));
    }
}
