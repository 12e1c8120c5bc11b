package catena.gateway.bench;

import java.io.PrintStream;
import java.util.List;

/** Sends a benchmark's requests at planned times over one protocol and records what each saw. */
public interface LoadClient {
    /**
     * Runs {@code requests}, request i sent no earlier than {@code sendAt[i]} ns after the start,
     * at most the client's concurrency at once; returns their records in order. {@code progress}
     * (may be null) gets a progress line labelled {@code label}.
     */
    List<RequestRecord> run(List<BenchRequest> requests, long[] sendAt, PrintStream progress, String label)
            throws InterruptedException;
}
