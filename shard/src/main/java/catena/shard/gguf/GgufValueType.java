package catena.shard.gguf;

/** Metadata value types of GGUF v2/v3, by their on-disk id. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Fixed size in bytes, or -1 for variable-size types. */
    public final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    public int id() {
        return ordinal();
    }

    /** The type for an on-disk id, or null if the id is not a GGUF value type. */
    public static GgufValueType byId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }

    /** Smallest number of bytes one value of this type can take (strings: the 8-byte length). */
    public int minSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }
}
