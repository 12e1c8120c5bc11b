package catena.worker.prefix;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Names blocks of {@code blockTokens} token positions by chaining: {@code h_i = H(h_(i-1),
 * tokens of block i)} with {@code h_(-1) = ROOT}, so block i's name depends on every token up to
 * the end of block i, and two prompts share the names of exactly the blocks before the first
 * block in which they differ. Only full blocks are named. Pure; a chain is made per call.
 */
public final class PrefixChain {
    private PrefixChain() {
    }

    /**
     * The names of the full blocks of {@code tokens[0 .. len)}, at most {@code maxBlocks} of
     * them (the first ones).
     */
    public static BlockHash[] of(int[] tokens, int len, int blockTokens, int maxBlocks) {
        if (blockTokens < 1) {
            throw new IllegalArgumentException("blockTokens=" + blockTokens + ", expected >= 1");
        }
        if (len < 0 || len > tokens.length) {
            throw new IllegalArgumentException("len=" + len + ", expected 0 .. " + tokens.length);
        }
        int n = Math.min(len / blockTokens, Math.max(0, maxBlocks));
        BlockHash[] chain = new BlockHash[n];
        MessageDigest md = sha256();
        BlockHash parent = BlockHash.ROOT;
        for (int b = 0; b < n; b++) {
            parent = next(md, parent, tokens, b * blockTokens, blockTokens);
            chain[b] = parent;
        }
        return chain;
    }

    /** The names of every full block of {@code tokens[0 .. len)}. */
    public static BlockHash[] of(int[] tokens, int len, int blockTokens) {
        return of(tokens, len, blockTokens, Integer.MAX_VALUE);
    }

    /** The name of the block {@code tokens[off .. off+blockTokens)} following {@code parent}. */
    public static BlockHash next(BlockHash parent, int[] tokens, int off, int blockTokens) {
        return next(sha256(), parent, tokens, off, blockTokens);
    }

    private static BlockHash next(MessageDigest md, BlockHash parent, int[] tokens, int off, int blockTokens) {
        byte[] in = new byte[16 + 4 * blockTokens];
        putLong(in, 0, parent.hi());
        putLong(in, 8, parent.lo());
        for (int i = 0; i < blockTokens; i++) {
            int t = tokens[off + i];
            int at = 16 + 4 * i;
            in[at] = (byte) t;
            in[at + 1] = (byte) (t >>> 8);
            in[at + 2] = (byte) (t >>> 16);
            in[at + 3] = (byte) (t >>> 24);
        }
        byte[] d = md.digest(in);
        return new BlockHash(getLong(d, 0), getLong(d, 8));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK offers no SHA-256", e);
        }
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }
}
