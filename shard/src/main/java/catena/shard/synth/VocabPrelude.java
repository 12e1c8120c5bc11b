package catena.shard.synth;

import java.util.List;

/**
 * The first 265 tokens every synth vocabulary shares (the fixtures' layout): pad, eos, bos, unk,
 * mask, the two turn markers, "\n", "\n\n", then the 256 byte-fallback tokens.
 */
final class VocabPrelude {
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int BYTE = 6;

    private VocabPrelude() {
    }

    static void add(List<String> tokens, List<Integer> types, String turnStart, String turnEnd) {
        for (String s : new String[] {"<pad>", "<eos>", "<bos>", "<unk>", "<mask>", turnStart, turnEnd}) {
            tokens.add(s);
            types.add(s.equals("<unk>") ? UNKNOWN : CONTROL);
        }
        tokens.add("\n");
        types.add(NORMAL);
        tokens.add("\n\n");
        types.add(NORMAL);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(BYTE);
        }
    }
}
