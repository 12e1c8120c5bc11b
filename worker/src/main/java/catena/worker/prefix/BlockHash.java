package catena.worker.prefix;

/**
 * The 128-bit name of a block of token positions: the first 128 bits of SHA-256 over the
 * previous block's name and this block's token ids (see {@link PrefixChain}). Two different
 * token prefixes share a name with probability about {@code n^2 / 2^129} for n blocks ever
 * named (below 10^-20 for 10^9 blocks), far below the rate of memory errors, so names are
 * compared instead of tokens.
 */
public record BlockHash(long hi, long lo) {
    /** The parent of a chain's first block. */
    public static final BlockHash ROOT = new BlockHash(0, 0);

    @Override
    public String toString() {
        return String.format("%016x%016x", hi, lo);
    }
}
