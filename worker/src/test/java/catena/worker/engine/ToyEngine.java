package catena.worker.engine;

import catena.shard.sample.SamplingParams;

/**
 * A test engine for pipeline plumbing (no model): a hidden row is [token, position, layers
 * applied, 0]; the head puts all probability on {@link #next}(token, position). Each stage checks
 * that a row's position matches its own cache, so misrouted or reordered rows fail loudly.
 */
public class ToyEngine implements StageEngine {
    public static final int DIM = 4;
    private final int from;
    private final int to;
    private final int layers;
    private final int vocab;
    private final int context;
    private final long delayMillis;
    private final java.util.concurrent.atomic.AtomicInteger freed = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger shared = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong attached = new java.util.concurrent.atomic.AtomicLong();

    public ToyEngine(int from, int to, int layers, int vocab, int context, long delayMillis) {
        this.from = from;
        this.to = to;
        this.layers = layers;
        this.vocab = vocab;
        this.context = context;
        this.delayMillis = delayMillis;
    }

    /** A factory for stages of a {@code layers}-layer toy model; each forward pass sleeps delayMillis. */
    public static StageEngineFactory factory(int layers, int vocab, int context, long delayMillis) {
        return (path, keepF32, from, to) -> new ToyEngine(from, to, layers, vocab, context, delayMillis);
    }

    /** The token the toy model predicts after {@code token} at {@code position} with {@code layers} layers. */
    public static int next(int token, int position, int layers, int vocab) {
        return Math.floorMod(7 * token + 3 * position + layers, vocab);
    }

    @Override
    public int fromLayer() {
        return from;
    }

    @Override
    public int toLayerExclusive() {
        return to;
    }

    @Override
    public int layerCount() {
        return layers;
    }

    @Override
    public int dim() {
        return DIM;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int contextLength() {
        return context;
    }

    @Override
    public long kvBytesPerToken() {
        return (long) (to - from) * 2 * DIM * Float.BYTES;
    }

    @Override
    public SequenceCache newCache() {
        return new Cache(to - from);
    }

    @Override
    public boolean canShare(int blockTokens) {
        return true;
    }

    @Override
    public SharedKv share(SequenceCache cache, int firstPosition, int positions) {
        Cache c = (Cache) cache;
        if (firstPosition + positions > c.length) {
            throw new IllegalStateException("share of positions [" + firstPosition + ", " + (firstPosition + positions)
                    + ") of a cache of length " + c.length);
        }
        shared.incrementAndGet();
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (!released.compareAndSet(false, true)) {
                throw new IllegalStateException("shared block released twice");
            }
            shared.decrementAndGet();
        };
    }

    @Override
    public void attach(SequenceCache cache, java.util.List<SharedKv> blocks, int positions) {
        Cache c = (Cache) cache;
        if (c.length != 0) {
            throw new IllegalStateException("attach to a cache of length " + c.length);
        }
        c.length = positions;
        attached.addAndGet(positions);
    }

    /** Shared blocks made and not yet released. */
    public int sharedBlocks() {
        return shared.get();
    }

    /** Positions attached from shared blocks so far. */
    public long attachedPositions() {
        return attached.get();
    }

    @Override
    public void embed(int[] tokens, int n, float[] x) {
        for (int i = 0; i < n; i++) {
            x[i * DIM] = tokens[i];
            x[i * DIM + 1] = -1;
            x[i * DIM + 2] = 0;
            x[i * DIM + 3] = 0;
        }
    }

    @Override
    public void forward(SequenceCache[] caches, int[] counts, int size, int[] tokens, float[] x) {
        if (delayMillis > 0) {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int row = 0;
        for (int i = 0; i < size; i++) {
            Cache c = (Cache) caches[i];
            for (int r = 0; r < counts[i]; r++, row++) {
                int position = c.length + r;
                if (tokens[row] != (int) x[row * DIM]) {
                    throw new IllegalStateException("row " + row + " carries token " + tokens[row]
                            + " but its activations say " + x[row * DIM]);
                }
                if (from == 0) {
                    x[row * DIM + 1] = position;
                } else if (x[row * DIM + 1] != position) {
                    throw new IllegalStateException("row " + row + " has position " + x[row * DIM + 1]
                            + " but this stage's cache expects " + position);
                }
                x[row * DIM + 2] += to - from;
            }
            c.length += counts[i];
        }
    }

    @Override
    public void logits(float[] x, int[] rows, int count, float[] logits) {
        java.util.Arrays.fill(logits, 0, count * vocab, 0f);
        for (int i = 0; i < count; i++) {
            int row = rows[i];
            int token = (int) x[row * DIM];
            int position = (int) x[row * DIM + 1];
            int applied = (int) x[row * DIM + 2];
            logits[i * vocab + next(token, position, applied, vocab)] = 1f;
        }
    }

    @Override
    public int sample(float[] logits, int off, SamplingParams params, long step, int[] history, int historyLen) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public void close() {
    }

    private final class Cache implements SequenceCache {
        private final int layerCount;
        int length;

        Cache(int layerCount) {
            this.layerCount = layerCount;
        }

        @Override
        public void free() {
            freed.incrementAndGet();
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public long bytes() {
            return (long) length * layerCount * 2 * DIM * Float.BYTES;
        }
    }

    /** Caches freed so far (each free counted once per call). */
    public int freedCaches() {
        return freed.get();
    }
}
