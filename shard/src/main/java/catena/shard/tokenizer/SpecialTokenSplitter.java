package catena.shard.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * llama.cpp's {@code tokenizer_st_partition}: for each special token in turn (longest text
 * first), every raw-text fragment is cut at each occurrence of the token's text, left to right.
 * CONTROL and UNKNOWN tokens take part only with {@code parseSpecial}; USER_DEFINED always.
 * Processing token by token (not a single leftmost-longest scan) matters when special texts
 * overlap, so the order is kept exactly.
 */
final class SpecialTokenSplitter {
    private final Vocabulary vocab;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.text(0, text.length()));
        for (int id : vocab.specialTokens) {
            if (!parseSpecial && vocab.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
                continue;
            }
            String special = vocab.texts[id];
            // A token absent from the whole text cannot be in any fragment: skip the rebuild.
            if (!text.contains(special)) {
                continue;
            }
            fragments = cut(text, fragments, id, special);
        }
        return fragments;
    }

    private static List<Fragment> cut(String text, List<Fragment> in, int id, String special) {
        List<Fragment> out = new ArrayList<>(in.size() + 4);
        for (Fragment f : in) {
            if (!f.isText()) {
                out.add(f);
                continue;
            }
            int from = f.start();
            while (true) {
                int at = text.indexOf(special, from, f.endExclusive());
                if (at < 0) {
                    break;
                }
                if (at > from) {
                    out.add(Fragment.text(from, at));
                }
                out.add(Fragment.token(id));
                from = at + special.length();
            }
            if (from < f.endExclusive()) {
                out.add(Fragment.text(from, f.endExclusive()));
            }
        }
        return out;
    }
}
