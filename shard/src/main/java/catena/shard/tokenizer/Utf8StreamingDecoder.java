package catena.shard.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token bytes into text, holding back a trailing incomplete UTF-8 sequence until the
 * bytes that complete it arrive (byte-fallback tokens split a character over several ids).
 * Malformed bytes become U+FFFD. Optionally drops one leading space of the first non-empty
 * piece, as llama.cpp does for vocabularies with a space prefix. Not thread-safe.
 */
final class Utf8StreamingDecoder implements StreamingDecoder {
    private static final byte[] EMPTY = new byte[0];

    private final GgufTokenizer tokenizer;
    private boolean stripLeadingSpace;
    private byte[] pending = EMPTY;

    Utf8StreamingDecoder(GgufTokenizer tokenizer, boolean stripLeadingSpace) {
        this.tokenizer = tokenizer;
        this.stripLeadingSpace = stripLeadingSpace;
    }

    @Override
    public String accept(int id) {
        byte[] piece = tokenizer.piece(id);
        if (piece.length == 0) {
            return "";
        }
        int from = 0;
        if (stripLeadingSpace) {
            stripLeadingSpace = false;
            if (piece[0] == ' ') {
                from = 1;
            }
        }
        byte[] bytes = new byte[pending.length + piece.length - from];
        System.arraycopy(pending, 0, bytes, 0, pending.length);
        System.arraycopy(piece, from, bytes, pending.length, piece.length - from);
        int complete = completePrefix(bytes);
        pending = Arrays.copyOfRange(bytes, complete, bytes.length);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    @Override
    public String flush() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = EMPTY;
        return rest;
    }

    /**
     * Length of the longest prefix that does not end inside a multi-byte sequence: the tail
     * is held back only when it is a lead byte followed by fewer continuation bytes than the
     * lead announces.
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int i = n - 1; i >= Math.max(0, n - 4); i--) {
            int v = b[i] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            int need = v >= 0xF0 && v <= 0xF4 ? 4 : v >= 0xE0 && v <= 0xEF ? 3 : v >= 0xC2 && v <= 0xDF ? 2 : 1;
            return need > n - i ? i : n;
        }
        return n;
    }

    /** Decodes a whole sequence at once (used by {@link Tokenizer#decode}). */
    static String decodeAll(GgufTokenizer tokenizer, int[] ids, boolean stripLeadingSpace) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean strip = stripLeadingSpace;
        for (int id : ids) {
            byte[] piece = tokenizer.piece(id);
            if (piece.length == 0) {
                continue;
            }
            int from = strip && piece[0] == ' ' ? 1 : 0;
            strip = false;
            out.write(piece, from, piece.length - from);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
