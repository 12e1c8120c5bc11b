package catena.shard.gguf;

/**
 * One metadata value with its on-disk type, so that a rewritten file keeps the exact types.
 * {@code value} is Byte, Short, Integer, Long, Float, Double, Boolean, String or GgufArray.
 */
public record GgufValue(GgufValueType type, Object value) {

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue ofUint32(int v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue ofArray(GgufValueType elementType, Object javaArray) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elementType, javaArray));
    }

    /** The value as a long, reading unsigned types as unsigned; throws if not an integer. */
    public long asLong() {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong((Byte) value);
            case INT8 -> (Byte) value;
            case UINT16 -> Short.toUnsignedLong((Short) value);
            case INT16 -> (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (Integer) value;
            case UINT64, INT64 -> (Long) value;
            case BOOL -> ((Boolean) value) ? 1 : 0;
            default -> throw new IllegalStateException("not an integer: " + type);
        };
    }

    public boolean isInteger() {
        return switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            default -> asLong();
        };
    }
}
