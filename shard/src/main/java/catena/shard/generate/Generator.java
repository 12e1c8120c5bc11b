package catena.shard.generate;

import catena.shard.model.Batch;
import catena.shard.model.KvCache;
import catena.shard.model.Model;
import catena.shard.sample.Sampler;
import catena.shard.sample.SamplingParams;
import catena.shard.tokenizer.StreamingDecoder;
import catena.shard.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * One sequence through a whole model in this process: batched prefill of the prompt (in chunks, so
 * activation memory stays bounded for long prompts), then one token per pass until an
 * end-of-generation token, the token budget, or the context end.
 */
public final class Generator {
    /** Rows per prefill pass: large enough to amortize each weight read over many tokens. */
    public static final int PREFILL_CHUNK = 256;

    private final Model model;
    private final Tokenizer tokenizer;

    public Generator(Model model, Tokenizer tokenizer) {
        if (!model.hasEmbedding() || !model.hasHead()) {
            throw new IllegalArgumentException("a Generator needs the whole model, not a layer slice");
        }
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Receives each token as it is produced with the text it completes (possibly empty). */
    public interface Listener {
        void onToken(int id, String piece);
    }

    public enum FinishReason { EOS, LENGTH, CONTEXT }

    public record Result(int[] promptIds, int[] tokens, String text, FinishReason finishReason) {
    }

    public Result generate(int[] prompt, SamplingParams params, int maxTokens, Listener listener) {
        int ctx = model.config().contextLength();
        int vocab = model.config().vocabSize();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (prompt.length >= ctx) {
            throw new IllegalArgumentException("the prompt has " + prompt.length
                    + " tokens; the model's context holds " + ctx + " (prompt and output together)");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        int dim = model.config().dim();
        KvCache cache = model.newCache();
        Batch batch = new Batch();
        float[] x = new float[Math.min(prompt.length, PREFILL_CHUNK) * dim];
        float[] logits = new float[vocab];
        int[] history = Arrays.copyOf(prompt, prompt.length + Math.max(0, maxTokens));
        int historyLen = prompt.length;
        for (int off = 0; off < prompt.length; off += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, prompt.length - off);
            model.embed(prompt, off, n, x);
            batch.clear();
            model.forward(batch.add(cache, prompt, off, n), x);
            if (off + n == prompt.length) {
                model.logits(x, n - 1, logits);
            }
        }
        // Generated text continues the prompt: a leading space of the first piece is real.
        StreamingDecoder decoder = tokenizer.newDecoder(false);
        StringBuilder text = new StringBuilder();
        FinishReason reason = FinishReason.LENGTH;
        int produced = 0;
        int[] next = new int[1];
        Sampler sampler = new Sampler();
        while (produced < maxTokens) {
            int id = sampler.next(logits, 0, vocab, params, produced, history, historyLen);
            if (tokenizer.isEndOfGeneration(id)) {
                reason = FinishReason.EOS;
                break;
            }
            history[historyLen++] = id;
            produced++;
            String piece = decoder.accept(id);
            text.append(piece);
            if (listener != null) {
                listener.onToken(id, piece);
            }
            if (produced == maxTokens) {
                break;
            }
            if (cache.length() + 1 > ctx) {
                reason = FinishReason.CONTEXT;
                break;
            }
            next[0] = id;
            model.embed(next, 0, 1, x);
            batch.clear();
            model.forward(batch.add(cache, next, 0, 1), x);
            model.logits(x, 0, logits);
        }
        cache.free(); // its off-heap pages return to the model's pool at its next pass
        String tail = decoder.flush();
        text.append(tail);
        if (listener != null && !tail.isEmpty()) {
            listener.onToken(-1, tail);
        }
        return new Result(prompt, Arrays.copyOfRange(history, prompt.length, historyLen), text.toString(), reason);
    }
}
