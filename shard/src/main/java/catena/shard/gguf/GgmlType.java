package catena.shard.gguf;

/**
 * ggml tensor element types that Catena reads, with their block geometry.
 *
 * <p>A block of {@code blockSize} elements takes {@code typeSize} bytes; a row of K elements
 * takes {@code K / blockSize * typeSize} bytes and K must be a multiple of the block size.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    BF16(30, 1, 2);

    /** The ggml type id as stored in a GGUF tensor info. */
    public final int id;
    /** Elements per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    /** The type for an id, or null when Catena does not know it. */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /** Bytes taken by {@code elementCount} elements; the count must be a multiple of the block size. */
    public long byteSizeFor(long elementCount) {
        if (elementCount % blockSize != 0) {
            throw new IllegalArgumentException(
                    "elementCount=" + elementCount + " is not a multiple of " + this + " blockSize=" + blockSize);
        }
        return Math.multiplyExact(elementCount / blockSize, (long) typeSize);
    }

    /** Whether Catena's engine can compute with tensors of this type (others are refused at model load). */
    public boolean isSupported() {
        return this == F32 || this == F16 || this == BF16 || this == Q8_0 || this == Q4_0;
    }
}
