package catena.gateway.route;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many sequences each replica runs, as one gateway can know it: its own sequences counted
 * exactly as its sessions start and end them, plus the other gateways' share estimated from the
 * stages' periodic reports (what a report holds beyond this gateway's own sequences).
 *
 * <p>Why not the reports alone: a report is up to a poll period old. A burst of requests (every
 * stream of a load generator's wave ends and restarts within milliseconds) routed on it would see
 * the finished sequences of one replica and the fresh ones of none, and pile onto one replica; the
 * measured split was 11 against 5 sequences, costing a third of the two replicas' throughput.
 * Thread-safe: sessions run on any dispatcher thread.
 */
public final class ReplicaOccupancy {
    private final Map<Integer, Counts> replicas = new ConcurrentHashMap<>();

    private static final class Counts {
        int own;
        int others;
    }

    /** This gateway started a sequence on {@code replica}. */
    public void started(int replica) {
        Counts c = counts(replica);
        synchronized (c) {
            c.own++;
        }
    }

    /** A sequence this gateway started on {@code replica} ended there (finished, failed over or cancelled). */
    public void ended(int replica) {
        Counts c = counts(replica);
        synchronized (c) {
            c.own = Math.max(0, c.own - 1);
        }
    }

    /**
     * A stage report: {@code held} sequences held or waiting on the replica's first stage. What
     * exceeds this gateway's own count belongs to other gateways.
     */
    public void reported(int replica, int held) {
        Counts c = counts(replica);
        synchronized (c) {
            c.others = Math.max(0, held - c.own);
        }
    }

    /** This gateway's sequences on {@code replica}. */
    public int own(int replica) {
        Counts c = counts(replica);
        synchronized (c) {
            return c.own;
        }
    }

    /** Other gateways' sequences on {@code replica}, as of the last report. */
    public int others(int replica) {
        Counts c = counts(replica);
        synchronized (c) {
            return c.others;
        }
    }

    /** This gateway's sequences on every replica. */
    public int ownTotal() {
        int n = 0;
        for (Counts c : replicas.values()) {
            synchronized (c) {
                n += c.own;
            }
        }
        return n;
    }

    private Counts counts(int replica) {
        return replicas.computeIfAbsent(replica, r -> new Counts());
    }
}
