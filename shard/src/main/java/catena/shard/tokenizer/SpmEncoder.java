package catena.shard.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE by token scores, as llama.cpp's {@code llm_tokenizer_spm_session}
 * (GEMMA_SPEC.md §10.4): optional space prefix, spaces to U+2581, one symbol per code point,
 * then repeatedly merge the adjacent pair whose concatenation is the highest-scoring vocabulary
 * token (ties: leftmost), and finally emit each symbol's token or its UTF-8 bytes as byte
 * tokens. A priority queue with lazy deletion keeps it O(n log n).
 *
 * <p>llama.cpp also keeps a "merge history" to resegment symbols that are not tokens; since
 * every merge produces a vocabulary token, only unmerged single code points can miss the
 * vocabulary, and for those the history has no entry, so byte fallback is the only path.
 */
final class SpmEncoder implements FragmentEncoder {
    static final char SPACE_MARK = '\u2581';

    private final Vocabulary vocab;

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /** A candidate merge of symbols {@code left} and {@code right} (right = left's successor then). */
    private record Bigram(int left, int right, float score, int length) {
    }

    @Override
    public void encode(String fragment, boolean afterSpecial, IntList out) {
        String text = (vocab.addSpacePrefix && afterSpecial ? " " + fragment : fragment).replace(' ', SPACE_MARK);
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n];
        int[] length = new int[n]; // in chars; 0 once merged into its left neighbour
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            int cp = text.codePointAt(pos);
            start[i] = pos;
            length[i] = Character.charCount(cp);
            pos += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> {
            int c = Float.compare(b.score, a.score);
            return c != 0 ? c : Integer.compare(a.left, b.left);
        });
        for (int i = 1; i < n; i++) {
            offer(text, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left;
            int r = b.right;
            // Stale: one side was merged away, or grew since the candidate was made.
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != b.length) {
                continue;
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(text, start, length, prev[l], l, queue);
            offer(text, start, length, l, next[l], queue);
        }
        for (int i = n == 0 ? -1 : 0; i != -1; i = next[i]) {
            emit(text.substring(start[i], start[i] + length[i]), out);
        }
    }

    private void offer(String text, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        int len = length[left] + length[right];
        int id = vocab.find(text.substring(start[left], start[left] + len));
        if (id != Vocabulary.NONE) {
            queue.add(new Bigram(left, right, vocab.scores[id], len));
        }
    }

    private void emit(String symbol, IntList out) {
        int id = vocab.find(symbol);
        if (id != Vocabulary.NONE) {
            out.add(id);
            return;
        }
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int t = vocab.byteToken(b);
            if (t == Vocabulary.NONE) {
                throw new IllegalArgumentException(String.format(
                        "cannot encode '%s': the vocabulary has no token for it and no byte token <0x%02X>",
                        symbol, b & 0xFF));
            }
            out.add(t);
        }
    }
}
