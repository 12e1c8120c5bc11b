package catena.shard.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The JVM's compute threads: {@code threads - 1} daemon workers plus the calling thread, which
 * always takes part. {@link #run} splits a task into chunks that every participant claims one at
 * a time (dynamic balancing: a core slowed by a neighbour just claims fewer chunks).
 *
 * <p>One pool per JVM ({@link #shared()}), because the engine's static {@code MatMul.matmul} has
 * no pool parameter and two pools would oversubscribe the cores. Size: {@code -Dcatena.threads},
 * else the available processors; {@link #setThreads} replaces it (bench {@code --threads N}).
 *
 * <p>Thread-safety: any number of threads may call {@link #run} at once (pipeline stages sharing
 * a JVM); each caller has its own {@link Job} (a thread-local), published in a free slot that
 * workers scan. No allocation per call once a thread has its job. Workers spin briefly before
 * parking so that the back-to-back matmuls of a layer do not pay a wake-up each.
 */
public final class ComputePool implements AutoCloseable {

    /** A unit of parallel work: {@code runChunk(c)} for every chunk c, in any order, on any thread. */
    public interface ChunkTask {
        void runChunk(int chunk);
    }

    /** Most chunks one run may have (chunk count and index share a 16-bit field each of the state word). */
    public static final int MAX_CHUNKS = 1 << 15;

    private static final int SLOTS = 64;
    /**
     * Spin iterations (about 40 us: Thread.onSpinWait is a ~140-cycle PAUSE here) of an idle worker
     * before it parks: enough to catch the next run of a layer across the caller's serial norms
     * without a wake-up, short enough not to take a shared core from others. Measured (bench, 1B
     * shape, 5 A/B pairs): 200 -> 1000 iterations gave batched x8 +3.4% (85.8 -> 88.7 tok/s mean),
     * decode +0.6%; on 2 busy shared cores spinning ~1 ms halved decode and prefill speed.
     */
    private static final int WORKER_SPINS = 1_000;
    /** Spin iterations (about 100 us) of a caller waiting for the last chunks before it parks. */
    private static final int CALLER_SPINS = 2_000;

    private static volatile ComputePool shared;

    private final int threads;
    private final Worker[] workers;
    private final AtomicReferenceArray<Job> slots = new AtomicReferenceArray<>(SLOTS);
    private final ThreadLocal<Job> jobs = ThreadLocal.withInitial(Job::new);
    private volatile boolean closed;

    /** A pool of {@code threads} participants (the caller counts as one); 1 means run inline. */
    public ComputePool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("compute threads: threads=" + threads + ", expected >= 1");
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("catena-compute-" + (i + 1));
            workers[i].start();
        }
    }

    /** The JVM-wide pool, created on first use with {@link #defaultThreads()} threads. */
    public static ComputePool shared() {
        ComputePool p = shared;
        if (p == null) {
            synchronized (ComputePool.class) {
                p = shared;
                if (p == null) {
                    p = new ComputePool(defaultThreads());
                    shared = p;
                }
            }
        }
        return p;
    }

    /** Replaces the JVM-wide pool by one of {@code threads} threads; runs in progress finish normally. */
    public static synchronized void setThreads(int threads) {
        ComputePool old = shared;
        if (old != null && old.threads == threads) {
            return;
        }
        shared = new ComputePool(threads);
        if (old != null) {
            old.close();
        }
    }

    /** {@code -Dcatena.threads} if set, else the number of available processors. */
    public static int defaultThreads() {
        String s = System.getProperty("catena.threads");
        if (s == null || s.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int t = Integer.parseInt(s.trim());
            if (t >= 1) {
                return t;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("system property catena.threads=" + s + ", expected an integer >= 1");
    }

    /** Participants, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task.runChunk(c)} for every c in [0, chunks) and returns when all are done. The
     * caller runs chunks too. An exception thrown by a chunk is rethrown here (after the other
     * chunks finished), wrapped if it is checked.
     */
    public void run(ChunkTask task, int chunks) {
        if (chunks < 0 || chunks > MAX_CHUNKS) {
            throw new IllegalArgumentException("chunks=" + chunks + ", expected 0.." + MAX_CHUNKS);
        }
        Job job = jobs.get();
        if (chunks <= 1 || workers.length == 0 || closed || job.busy) {
            // busy: a chunk of this thread's own job called run again; nested runs go inline.
            for (int c = 0; c < chunks; c++) {
                task.runChunk(c);
            }
            return;
        }
        job.busy = true;
        try {
            runShared(job, task, chunks);
        } finally {
            job.busy = false;
        }
    }

    private void runShared(Job job, ChunkTask task, int chunks) {
        job.task = task;
        job.failure = null;
        job.pending.set(chunks);
        job.publish(chunks);
        int slot = claimSlot(job);
        wakeWorkers(chunks - 1);
        job.work();
        if (slot >= 0) {
            slots.set(slot, null);
        }
        awaitPending(job);
        job.task = null;
        Throwable f = job.failure;
        if (f != null) {
            job.failure = null;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException("compute chunk failed", f);
        }
    }

    private int claimSlot(Job job) {
        for (int i = 0; i < SLOTS; i++) {
            if (slots.get(i) == null && slots.compareAndSet(i, null, job)) {
                return i;
            }
        }
        return -1; // more than SLOTS concurrent callers: this one runs its chunks alone
    }

    private void wakeWorkers(int wanted) {
        for (int i = 0; i < workers.length && wanted > 0; i++) {
            Worker w = workers[i];
            if (w.parked) {
                LockSupport.unpark(w);
                wanted--;
            }
        }
    }

    private static void awaitPending(Job job) {
        for (int spins = 0; job.pending.get() != 0; spins++) {
            if (spins < CALLER_SPINS) {
                Thread.onSpinWait();
            } else {
                job.waiter = Thread.currentThread();
                if (job.pending.get() != 0) {
                    LockSupport.park(job);
                }
            }
        }
        job.waiter = null;
    }

    /** Stops the workers once they finish their current chunk; runs started later go inline. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    /**
     * One caller's run. {@code state} packs [generation:32][chunk count:16][next chunk:16] so that a
     * worker holding a stale reference can only claim chunks of the run it actually sees: a
     * successful CAS proves the run was still live, and its task stays set until the run's
     * pending count reaches zero, which needs that worker's chunk.
     */
    private static final class Job {
        final AtomicLong state = new AtomicLong();
        final AtomicInteger pending = new AtomicInteger();
        ChunkTask task;
        volatile Throwable failure;
        volatile Thread waiter;
        boolean busy;

        void publish(int chunks) {
            long gen = (state.get() >>> 32) + 1;
            state.set((gen << 32) | ((long) chunks << 16));
        }

        /** Claims and runs chunks until none is left; returns whether it ran any. */
        boolean work() {
            boolean ran = false;
            while (true) {
                long s = state.get();
                int next = (int) (s & 0xFFFF);
                int count = (int) ((s >>> 16) & 0xFFFF);
                if (next >= count) {
                    return ran;
                }
                if (!state.compareAndSet(s, s + 1)) {
                    continue;
                }
                ran = true;
                try {
                    task.runChunk(next);
                } catch (Throwable t) {
                    // a thread root for the chunk: hand the failure to the caller, which rethrows it
                    failure = t;
                } finally {
                    if (pending.decrementAndGet() == 0) {
                        Thread w = waiter;
                        if (w != null) {
                            LockSupport.unpark(w);
                        }
                    }
                }
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            int idle = 0;
            while (!closed) {
                if (scan()) {
                    idle = 0;
                } else if (idle < WORKER_SPINS) {
                    idle++;
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    // re-scan after announcing: a caller that published before reading `parked` is seen here
                    if (!scan() && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idle = 0;
                }
            }
        }

        private boolean scan() {
            boolean ran = false;
            for (int i = 0; i < SLOTS; i++) {
                Job j = slots.get(i);
                if (j != null && j.work()) {
                    ran = true;
                }
            }
            return ran;
        }
    }
}
