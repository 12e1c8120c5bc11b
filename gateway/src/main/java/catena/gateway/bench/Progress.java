package catena.gateway.bench;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;

/** A one-line progress bar of finished requests, redrawn in place (on stderr). */
final class Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final int total;
    private final AtomicInteger done = new AtomicInteger();

    Progress(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = total;
    }

    void finished() {
        int f = done.incrementAndGet();
        if (out == null) {
            return;
        }
        int filled = (int) ((long) WIDTH * f / total);
        synchronized (out) {
            out.printf("\r%s [%s%s] %d/%d requests", label, "#".repeat(filled), ".".repeat(WIDTH - filled), f, total);
            if (f == total) {
                out.println();
            }
            out.flush();
        }
    }
}
