package catena.shard.tensor;

/**
 * A weight matrix of {@code rows} rows of {@code cols} elements (GGUF shape {cols, rows}): row r is
 * output r of {@code y = W x}. Held off-heap: int8 Q8_0 blocks (the working format), 4-bit Q4_0 blocks (as
 * Q4_0 files have them) or F32
 * (for exact comparisons and for matrices whose rows are not a multiple of 32).
 */
public sealed interface Matrix permits Q8Matrix, Q4Matrix, F32Matrix {

    int rows();

    int cols();

    /**
     * Bytes of the matrix in its model format (Q8_0: 34 per 32 weights, as in GGUF): what a decode
     * step's efficiency is measured against, comparable across engines.
     */
    long byteSize();

    /** Bytes held in memory, which a full pass reads (Q8_0 with f32 scales: 36 per 32). */
    long residentBytes();

    /** Bytes of one row in the model format. */
    long rowBytes();

    /** Dequantizes row {@code r} into {@code out[off .. off+cols)}. */
    void row(int r, float[] out, int off);

    /** Rows {@code [from, from+count)} as their own matrix (expert slabs of 3-D tensors). */
    Matrix slice(int from, int count);
}
