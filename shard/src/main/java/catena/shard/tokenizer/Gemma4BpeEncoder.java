package catena.shard.tokenizer;

import catena.shard.gguf.GgufMetadata;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Gemma 4's "SentencePiece-style BPE", as llama.cpp's {@code llm_tokenizer_bpe_session} with
 * pre-type GEMMA4 (GEMMA_SPEC.md §10.5): spaces to U+2581, split into maximal runs of newlines
 * and of everything else; a newline run that is itself a token is emitted whole (llama.cpp PR
 * #21343); otherwise one symbol per code point and repeatedly merge the adjacent pair of lowest
 * merge rank (ties: leftmost). A final piece that is not a token falls back to {@code <0xXX>}
 * tokens per UTF-8 byte (bytes without one are dropped, as llama.cpp does).
 */
final class Gemma4BpeEncoder implements FragmentEncoder {
    private final Vocabulary vocab;
    /** "left right" → rank (merge index); the first occurrence of a pair wins. */
    private final Map<String, Integer> ranks;

    Gemma4BpeEncoder(Vocabulary vocab, GgufMetadata md) {
        this.vocab = vocab;
        String[] merges = md.getStringArray("tokenizer.ggml.merges");
        this.ranks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            // llama.cpp splits at the first space after the first byte; a merge without one is ("", "").
            int sp = merges[i].indexOf(' ', 1);
            String key = sp < 0 ? " " : merges[i].substring(0, sp) + " " + merges[i].substring(sp + 1);
            ranks.putIfAbsent(key, i);
        }
    }

    private record Bigram(int left, int right, int rank, int length) {
    }

    @Override
    public void encode(String fragment, boolean afterSpecial, IntList out) {
        String text = fragment.replace(' ', SpmEncoder.SPACE_MARK);
        int pos = 0;
        while (pos < text.length()) {
            boolean newline = text.charAt(pos) == '\n';
            int end = pos;
            while (end < text.length() && (text.charAt(end) == '\n') == newline) {
                end++;
            }
            encodeWord(text.substring(pos, end), newline, out);
            pos = end;
        }
    }

    private void encodeWord(String word, boolean newlines, IntList out) {
        if (newlines) {
            int id = vocab.find(word);
            if (id != Vocabulary.NONE) {
                out.add(id);
                return;
            }
        }
        int n = word.codePointCount(0, word.length());
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, p = 0; i < n; i++) {
            start[i] = p;
            length[i] = Character.charCount(word.codePointAt(p));
            p += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> {
            int c = Integer.compare(a.rank, b.rank);
            return c != 0 ? c : Integer.compare(a.left, b.left);
        });
        for (int i = 1; i < n; i++) {
            offer(word, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left;
            int r = b.right;
            if (length[l] == 0 || length[r] == 0 || length[l] + length[r] != b.length) {
                continue; // stale: a side was merged away or has grown
            }
            length[l] += length[r];
            length[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(word, start, length, prev[l], l, queue);
            offer(word, start, length, l, next[l], queue);
        }
        for (int i = n == 0 ? -1 : 0; i != -1; i = next[i]) {
            emit(word.substring(start[i], start[i] + length[i]), out);
        }
    }

    private void offer(String word, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        String key = word.substring(start[left], start[left] + length[left]) + " "
                + word.substring(start[right], start[right] + length[right]);
        Integer rank = ranks.get(key);
        if (rank != null) {
            queue.add(new Bigram(left, right, rank, length[left] + length[right]));
        }
    }

    private void emit(String piece, IntList out) {
        int id = vocab.find(piece);
        if (id != Vocabulary.NONE) {
            out.add(id);
            return;
        }
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
            int t = vocab.byteToken(b);
            if (t != Vocabulary.NONE) {
                out.add(t);
            }
        }
    }
}
