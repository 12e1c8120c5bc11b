package catena.shard.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupted GGUF files: a valid small file written with {@link GgufWriter}, then bytes changed.
 * Each must be refused with a {@link GgufFormatException} naming the problem and its byte offset
 * (never an OutOfMemoryError, an index exception or a hang).
 */
@Timeout(30)
class MalformedGgufTest {
    private static final String LONG_TEXT = "x".repeat(2000);

    @TempDir
    Path tmp;

    private byte[] valid;

    @BeforeEach
    void writeValidFile() throws IOException {
        Path p = tmp.resolve("valid.gguf");
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putUint32("general.alignment", 32)
                .putString("general.description", LONG_TEXT)
                .putBool("test.flag", true)
                .put("test.ints", GgufValue.ofArray(GgufValueType.INT32, new int[] {1, 2, 3}))
                .putUint32("dup.aaa", 1)
                .putUint32("dup.aab", 2);
        w.tensor("tensor.a", new long[] {32, 2}, GgmlType.F32, sink -> sink.put(ByteBuffer.allocate(256)));
        w.tensor("tensor.b", new long[] {64, 2}, GgmlType.Q8_0, sink -> sink.put(ByteBuffer.allocate(136)));
        w.write(p);
        valid = Files.readAllBytes(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.tensors()).hasSize(2);
        }
    }

    @Test
    void theBaseFileIsValid() {
        assertThat(valid.length).isGreaterThan(2400);
    }

    @Test
    void badMagic() {
        byte[] f = valid.clone();
        f[0] = 'X';
        refused(f, "not a GGUF file: magic=0x46554758", 0);
    }

    @Test
    void unsupportedVersion() {
        byte[] f = valid.clone();
        putU32(f, 4, 7);
        refused(f, "unsupported GGUF version=7", 4);
    }

    @Test
    void emptyFile() {
        refused(new byte[0], "truncated header: magic needs 4 bytes but the file ends at 0", 0);
    }

    @Test
    void truncatedHeader() {
        refused(Arrays.copyOf(valid, 12), "truncated header: tensor_count needs 8 bytes but the file ends at 12", 8);
    }

    @Test
    void truncatedInTheMiddleOfAString() {
        int text = indexOf(valid, LONG_TEXT);
        byte[] f = Arrays.copyOf(valid, text + 1000);
        refused(f, "value of 'general.description': string length=2000 runs past the end of the file", text - 8);
    }

    @Test
    void absurdTensorCount() {
        byte[] f = valid.clone();
        putU64(f, 8, 1L << 60);
        refused(f, "tensor_count=1152921504606846976 cannot fit in the remaining", 8);
    }

    @Test
    void absurdKvCount() {
        byte[] f = valid.clone();
        putU64(f, 16, -1L);
        refused(f, "kv_count=18446744073709551615 cannot fit in the remaining", 16);
    }

    @Test
    void stringLengthBeyondTheFile() {
        byte[] f = valid.clone();
        putU64(f, 24, 1L << 40);
        refused(f, "metadata key #0: string length=1099511627776 runs past the end of the file", 24);
    }

    @Test
    void absurdArrayLength() {
        int key = indexOf(valid, "test.ints");
        int len = key + "test.ints".length() + 4 + 4;
        byte[] f = valid.clone();
        putU64(f, len, 1L << 50);
        refused(f, "metadata 'test.ints': array length=1125899906842624 of INT32 cannot fit", len);
    }

    @Test
    void absurdDimensionCount() {
        int nDims = tensorInfo("tensor.a");
        byte[] f = valid.clone();
        putU32(f, nDims, 99);
        refused(f, "tensor 'tensor.a': n_dims=99, expected 1 to 4", nDims);
    }

    @Test
    void dimensionsWhoseProductOverflows() {
        int nDims = tensorInfo("tensor.a");
        byte[] f = valid.clone();
        putU64(f, nDims + 4, 1L << 32);
        putU64(f, nDims + 12, 1L << 32);
        refused(f, "tensor 'tensor.a': element count (product of dims [4294967296, 4294967296]) overflows 64 bits",
                nDims + 12);
    }

    @Test
    void negativeDimension() {
        int nDims = tensorInfo("tensor.a");
        byte[] f = valid.clone();
        putU64(f, nDims + 12, -5L);
        refused(f, "tensor 'tensor.a': ne[1]=18446744073709551611, expected 1 to 2^63-1", nDims + 12);
    }

    @Test
    void unknownGgmlType() {
        int type = tensorInfo("tensor.a") + 4 + 16;
        byte[] f = valid.clone();
        putU32(f, type, 99);
        refused(f, "tensor 'tensor.a': unknown ggml type id=99", type);
    }

    @Test
    void unknownValueType() {
        int type = indexOf(valid, "test.flag") + "test.flag".length();
        byte[] f = valid.clone();
        putU32(f, type, 77);
        refused(f, "metadata 'test.flag': unknown value type id=77, expected 0 to 12", type);
    }

    @Test
    void boolThatIsNeitherZeroNorOne() {
        int value = indexOf(valid, "test.flag") + "test.flag".length() + 4;
        byte[] f = valid.clone();
        f[value] = 5;
        refused(f, "metadata 'test.flag': bool byte=5, expected 0 or 1", value);
    }

    @Test
    void tensorDataBeyondTheEndOfTheFile() {
        byte[] f = Arrays.copyOf(valid, valid.length - 100);
        refused(f, "tensor 'tensor.b': data [", tensorInfo("tensor.b") - 8 - "tensor.b".length());
        assertThat(message(f)).contains("lies outside the file of " + f.length + " bytes (truncated file or bad offset)");
    }

    @Test
    void offsetPointingBeyondTheFile() {
        int off = tensorInfo("tensor.b") + 4 + 16 + 4;
        byte[] f = valid.clone();
        putU64(f, off, 1L << 40);
        assertThat(message(f)).contains("tensor 'tensor.b': data [").contains("lies outside the file");
    }

    @Test
    void misalignedOffset() {
        int off = tensorInfo("tensor.b") + 4 + 16 + 4;
        byte[] f = valid.clone();
        putU64(f, off, readU64(f, off) + 4);
        refused(f, "tensor 'tensor.b': offset=260 is not a multiple of alignment=32", off);
    }

    @Test
    void duplicateKey() {
        int key = indexOf(valid, "dup.aab");
        byte[] f = valid.clone();
        f[key + 6] = 'a';
        refused(f, "duplicate metadata key 'dup.aaa'", key - 8);
    }

    @Test
    void duplicateTensorName() {
        int name = tensorInfo("tensor.b") - "tensor.b".length();
        byte[] f = valid.clone();
        f[name + 7] = 'a';
        refused(f, "duplicate tensor name 'tensor.a'", name - 8);
    }

    @Test
    void alignmentThatIsNotAPowerOfTwo() {
        int type = indexOf(valid, "general.alignment") + "general.alignment".length();
        byte[] f = valid.clone();
        putU32(f, type + 4, 48);
        refused(f, "bad general.alignment=48 of type UINT32, expected an integer power of two", type);
    }

    @Test
    void alignmentOfTheWrongType() {
        int type = indexOf(valid, "general.alignment") + "general.alignment".length();
        byte[] f = valid.clone();
        putU32(f, type, GgufValueType.FLOAT32.id());
        assertThat(message(f)).contains("bad general.alignment=").contains("of type FLOAT32").contains("offset " + type);
    }

    @Test
    void rowSizeNotAMultipleOfTheBlockSize() {
        int nDims = tensorInfo("tensor.b");
        byte[] f = valid.clone();
        putU64(f, nDims + 4, 48);
        refused(f, "tensor 'tensor.b': ne[0]=48 is not a multiple of Q8_0 blockSize=32", nDims);
    }

    @Test
    void arraysNestedTooDeep() throws IOException {
        GgufArray a = new GgufArray(GgufValueType.INT32, new int[] {1});
        for (int i = 0; i < 12; i++) {
            a = new GgufArray(GgufValueType.ARRAY, new GgufArray[] {a});
        }
        Path p = tmp.resolve("deep.gguf");
        new GgufWriter().put("deep", new GgufValue(GgufValueType.ARRAY, a)).write(p);
        byte[] f = Files.readAllBytes(p);
        // Depth 9 is the tenth array header: key "deep" ends at 32, then the value type, then 12 bytes a level.
        refused(f, "metadata 'deep': arrays nested deeper than 8 levels", 24 + 8 + 4 + 4 + 9 * 12);
    }

    @Test
    void arrayOfArraysWithAnAbsurdCount() {
        // 2^31-17 nested arrays cannot fit in the file: refused before anything is allocated.
        byte[] f = valid.clone();
        int len = indexOf(valid, "test.ints") + "test.ints".length() + 4 + 4;
        putU32(f, len - 4, GgufValueType.ARRAY.id());
        putU64(f, len, Integer.MAX_VALUE - 17);
        refused(f, "metadata 'test.ints': array length=2147483630 of ARRAY cannot fit", len);
    }

    /** Thousands of random corruptions: each file either reads or is refused with a GgufFormatException. */
    @Test
    void randomCorruptionsAreReadOrRefusedButNeverCrashTheReader() throws IOException {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(20261128);
        Path p = tmp.resolve("fuzz.gguf");
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] f = valid.clone();
            if (i % 10 == 0) {
                f = Arrays.copyOf(f, rnd.nextInt(f.length));
            } else {
                int header = valid.length - 256 - 136;
                for (int k = 0, n = 1 + rnd.nextInt(4); k < n; k++) {
                    int at = rnd.nextInt(header);
                    f[at] = rnd.nextBoolean() ? (byte) rnd.nextInt(256) : (byte) (f[at] ^ (1 << rnd.nextInt(8)));
                }
            }
            Files.write(p, f);
            try (GgufFile g = GgufFile.open(p)) {
                for (TensorInfo t : g.tensors().values()) {
                    assertThat(t.fileOffset() + t.byteSize()).isLessThanOrEqualTo(g.fileSize());
                }
            } catch (GgufFormatException e) {
                assertThat(e.getMessage()).contains("(at byte offset ");
                refused++;
            }
        }
        // Flips inside the 2000-byte description are harmless; the rest must have exercised the refusals.
        assertThat(refused).isGreaterThan(500);
    }

    // --- helpers ---

    /** Offset of the n_dims field of the tensor info named {@code name} (the name's last occurrence). */
    private int tensorInfo(String name) {
        byte[] pat = name.getBytes(StandardCharsets.UTF_8);
        for (int i = valid.length - pat.length; i >= 0; i--) {
            if (Arrays.equals(valid, i, i + pat.length, pat, 0, pat.length)) {
                return i + pat.length;
            }
        }
        throw new AssertionError(name + " not in the file");
    }

    private static int indexOf(byte[] f, String s) {
        byte[] pat = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + pat.length <= f.length; i++) {
            if (Arrays.equals(f, i, i + pat.length, pat, 0, pat.length)) {
                return i;
            }
        }
        throw new AssertionError(s + " not in the file");
    }

    private static void putU32(byte[] f, int at, int v) {
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    private static void putU64(byte[] f, int at, long v) {
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    private static long readU64(byte[] f, int at) {
        return ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    private String message(byte[] f) {
        Path p = tmp.resolve("bad.gguf");
        try {
            Files.write(p, f);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Throwable[] caught = new Throwable[1];
        assertThatThrownBy(() -> GgufFile.open(p).close()).isInstanceOf(GgufFormatException.class)
                .satisfies(e -> caught[0] = e);
        return caught[0].getMessage();
    }

    private void refused(byte[] f, String problem, long offset) {
        assertThat(message(f)).startsWith("bad.gguf: ").contains(problem).endsWith("(at byte offset " + offset + ")");
    }
}
