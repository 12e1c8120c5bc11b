package catena.shard.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {

    @Test
    void shouldRunEveryChunkExactlyOnceWhenSeveralCallersShareThePool() throws Exception {
        try (ComputePool pool = new ComputePool(3)) {
            int callers = 4;
            int reps = 200;
            int chunks = 37;
            AtomicIntegerArray[] counts = new AtomicIntegerArray[callers];
            Thread[] threads = new Thread[callers];
            for (int c = 0; c < callers; c++) {
                AtomicIntegerArray cnt = new AtomicIntegerArray(chunks);
                counts[c] = cnt;
                threads[c] = new Thread(() -> {
                    for (int r = 0; r < reps; r++) {
                        pool.run(cnt::incrementAndGet, chunks);
                    }
                });
                threads[c].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (AtomicIntegerArray cnt : counts) {
                for (int i = 0; i < chunks; i++) {
                    assertThat(cnt.get(i)).as("chunk %d", i).isEqualTo(reps);
                }
            }
        }
    }

    @Test
    void shouldUseTheWorkersWhenTheCallerIsBusy() {
        try (ComputePool pool = new ComputePool(2)) {
            java.util.Set<String> names = java.util.concurrent.ConcurrentHashMap.newKeySet();
            pool.run(c -> {
                names.add(Thread.currentThread().getName());
                long end = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
            }, 8);
            assertThat(names).contains(Thread.currentThread().getName(), "catena-compute-1");
        }
    }

    @Test
    void shouldRethrowAChunkFailureAfterTheOtherChunksFinish() {
        try (ComputePool pool = new ComputePool(2)) {
            AtomicIntegerArray done = new AtomicIntegerArray(16);
            assertThatThrownBy(() -> pool.run(c -> {
                if (c == 5) {
                    throw new IllegalStateException("chunk 5 broke");
                }
                done.incrementAndGet(c);
            }, 16)).isInstanceOf(IllegalStateException.class).hasMessage("chunk 5 broke");
            for (int i = 0; i < 16; i++) {
                assertThat(done.get(i)).isEqualTo(i == 5 ? 0 : 1);
            }
            // the pool still works afterwards
            AtomicIntegerArray again = new AtomicIntegerArray(4);
            pool.run(again::incrementAndGet, 4);
            assertThat(again.toString()).isEqualTo("[1, 1, 1, 1]");
        }
    }

    @Test
    void shouldRejectZeroThreads() {
        assertThatThrownBy(() -> new ComputePool(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("compute threads: threads=0, expected >= 1");
    }
}
