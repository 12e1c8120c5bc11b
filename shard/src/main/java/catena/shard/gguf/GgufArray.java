package catena.shard.gguf;

import java.lang.reflect.Array;
import java.util.Arrays;

/**
 * A GGUF array value. {@code values} is a primitive Java array matching the element type:
 * byte[] for (U)INT8, short[] for (U)INT16, int[] for (U)INT32, long[] for (U)INT64, float[],
 * double[], boolean[], String[], or GgufArray[] for nested arrays. Unsigned types keep their
 * bits; read them with the unsigned helpers of the boxed types.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public int length() {
        return Array.getLength(values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray(GgufValueType t, Object v)
                && t == elementType
                && Arrays.deepEquals(new Object[] {values}, new Object[] {v});
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {values});
    }

    @Override
    public String toString() {
        int n = length();
        StringBuilder sb = new StringBuilder("[").append(n).append(" x ").append(elementType).append("] [");
        for (int i = 0; i < Math.min(n, 8); i++) {
            sb.append(i == 0 ? "" : ", ").append(Array.get(values, i));
        }
        return sb.append(n > 8 ? ", ...]" : "]").toString();
    }
}
