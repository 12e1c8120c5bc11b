package catena.gateway.discovery;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Turns the release's pods into the seed list a node joins with, or tells it to wait.
 *
 * <p>The seeds are every reachable pod (Running, an IP, a {@code pekko} port, not terminating),
 * oldest first (creation time, then name), this node included. Pekko's first-seed rule does the
 * rest: only the node listed first may form a new cluster, and only after none of the others
 * answered; everyone else keeps trying to join the listed ones. Ordering by age makes every node
 * that sees the same pods agree on that first node; a pod created later (a scale-up, a replaced
 * pod) is never first while an older one is reachable, so it joins the running cluster instead of
 * founding a second one. A restarted container keeps its pod (and its age): if it is first it asks
 * the others before forming anything, and joins them when they answer.
 *
 * <p>A node waits while it cannot see itself (the informer has not caught up, or its pod has no
 * IP yet), and while it would be the founder but an older pod exists that is not reachable yet
 * (still Pending or starting): that pod is the rightful founder, and two nodes founding at once
 * would split the cluster. The wait for such an older pod ends after {@code pendingGrace} from its
 * creation, so one pod that can never be scheduled does not keep the rest out of service forever.
 */
public final class SeedSelection {
    private static final Comparator<PodView> OLDEST_FIRST = Comparator.comparing(PodView::created)
            .thenComparing(PodView::name);

    private final Duration pendingGrace;

    /** @param pendingGrace how long an older pod that is not reachable yet may hold back a would-be founder */
    public SeedSelection(Duration pendingGrace) {
        if (pendingGrace == null || pendingGrace.isNegative()) {
            throw new IllegalArgumentException("seed selection: pendingGrace=" + pendingGrace
                    + ", expected a duration >= 0");
        }
        this.pendingGrace = pendingGrace;
    }

    /** The outcome for one node: join these seeds, or wait for a reason. */
    public sealed interface Decision {
    }

    /** Join the cluster through {@code seeds} ({@code ip:port}, oldest first; this node is among them). */
    public record Join(List<String> seeds) implements Decision {
    }

    /** Not yet; {@code reason} says what is missing. */
    public record Wait(String reason) implements Decision {
    }

    /** The decision for the pod named {@code self}, given every pod of the release seen at {@code now}. */
    public Decision decide(String self, Collection<PodView> pods, Instant now) {
        PodView me = pods.stream().filter(p -> p.name().equals(self)).findFirst().orElse(null);
        if (me == null) {
            return new Wait("own pod " + self + " not seen yet");
        }
        if (!me.reachable()) {
            return new Wait("own pod " + self + " not reachable yet (running=" + me.running() + ", ip="
                    + (me.ip().isEmpty() ? "none" : me.ip()) + ", pekkoPort=" + me.pekkoPort() + ")");
        }
        List<PodView> seeds = pods.stream().filter(PodView::reachable).sorted(OLDEST_FIRST).toList();
        if (seeds.getFirst().equals(me)) {
            for (PodView p : pods.stream().sorted(OLDEST_FIRST).toList()) {
                if (OLDEST_FIRST.compare(p, me) >= 0) {
                    break;
                }
                // Only a pod that will have a cluster port can found the cluster (a test pod never will).
                boolean starting = !p.terminating() && !p.reachable() && p.pekkoPort() > 0;
                if (starting && Duration.between(p.created(), now).compareTo(pendingGrace) < 0) {
                    return new Wait("older pod " + p.name() + " is not reachable yet: it founds the cluster");
                }
            }
        }
        return new Join(seeds.stream().map(PodView::seed).toList());
    }
}
