package catena.shard.gguf;

import java.util.Collections;
import java.util.Map;

/**
 * The key/value metadata of a GGUF file, with typed getters that fail with a message naming
 * the key when a value is missing or of the wrong type.
 */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;

    public GgufMetadata(Map<String, GgufValue> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** All entries in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public GgufValue get(String key) {
        return values.get(key);
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufFormatException("missing metadata key '" + key + "'");
        }
        return v;
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.STRING) {
            throw new GgufFormatException("metadata '" + key + "': type=" + v.type() + ", expected STRING");
        }
        return (String) v.value();
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (!v.isInteger()) {
            throw new GgufFormatException("metadata '" + key + "': type=" + v.type() + ", expected an integer");
        }
        return v.asLong();
    }

    /** An integer key that must fit an int and be at least {@code min}. */
    public int getInt(String key, int min) {
        long v = getLong(key);
        if (v < min || v > Integer.MAX_VALUE) {
            throw new GgufFormatException("metadata '" + key + "'=" + v + ", expected " + min + " to " + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    public int getInt(String key, int min, int fallback) {
        return has(key) ? getInt(key, min) : fallback;
    }

    public float getFloat(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.FLOAT32 && v.type() != GgufValueType.FLOAT64 && !v.isInteger()) {
            throw new GgufFormatException("metadata '" + key + "': type=" + v.type() + ", expected a number");
        }
        return (float) v.asDouble();
    }

    public float getFloat(String key, float fallback) {
        return has(key) ? getFloat(key) : fallback;
    }

    public boolean getBool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        GgufValue v = require(key);
        if (v.type() != GgufValueType.BOOL) {
            throw new GgufFormatException("metadata '" + key + "': type=" + v.type() + ", expected BOOL");
        }
        return (Boolean) v.value();
    }

    public GgufArray getArray(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.ARRAY) {
            throw new GgufFormatException("metadata '" + key + "': type=" + v.type() + ", expected ARRAY");
        }
        return (GgufArray) v.value();
    }

    public String[] getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw new GgufFormatException("metadata '" + key + "': array of " + a.elementType() + ", expected STRING");
        }
        return (String[]) a.values();
    }

    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.FLOAT32) {
            throw new GgufFormatException("metadata '" + key + "': array of " + a.elementType() + ", expected FLOAT32");
        }
        return (float[]) a.values();
    }

    /** An integer array (any integer element type) as int[]; values must fit an int. */
    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        Object v = a.values();
        int n = a.length();
        int[] out = new int[n];
        switch (a.elementType()) {
            case INT32, UINT32 -> System.arraycopy((int[]) v, 0, out, 0, n);
            case INT8 -> { for (int i = 0; i < n; i++) out[i] = ((byte[]) v)[i]; }
            case UINT8 -> { for (int i = 0; i < n; i++) out[i] = ((byte[]) v)[i] & 0xFF; }
            case INT16 -> { for (int i = 0; i < n; i++) out[i] = ((short[]) v)[i]; }
            case UINT16 -> { for (int i = 0; i < n; i++) out[i] = ((short[]) v)[i] & 0xFFFF; }
            case INT64, UINT64 -> {
                for (int i = 0; i < n; i++) out[i] = Math.toIntExact(((long[]) v)[i]);
            }
            case BOOL -> { for (int i = 0; i < n; i++) out[i] = ((boolean[]) v)[i] ? 1 : 0; }
            default -> throw new GgufFormatException("metadata '" + key + "': array of " + a.elementType()
                    + ", expected integers");
        }
        return out;
    }
}
