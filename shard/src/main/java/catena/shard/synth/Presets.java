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
        // The built-in model of `catena serve`: small enough to start in a second, real Gemma 3 math.
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
