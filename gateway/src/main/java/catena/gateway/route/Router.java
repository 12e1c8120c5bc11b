package catena.gateway.route;

import java.util.List;

/**
 * Chooses the replica for a new sequence, weighing prefix-cache affinity against load as llm-d's
 * scheduler does (a weighted sum of a prefix score and a load score, after a filter). Filter: a
 * replica whose free KV capacity cannot hold the part of the prompt it does not cache is full and
 * is chosen only when every replica is. Score: the sequences it runs, less {@code prefixWeight}
 * times the fraction of the prompt it caches, lowest wins; so a replica holding the whole prompt
 * wins unless it runs {@code prefixWeight} more sequences than another. Unlike llm-d's min-max
 * normalized queue score, the load stays in sequences, so "much busier" means the same at any
 * scale. Ties go to more free KV capacity, then the lower index. Pure; no state.
 */
public final class Router {
    private final double prefixWeight;

    /** {@code prefixWeight}: sequences of load a fully cached prompt is worth (0 = load only). */
    public Router(double prefixWeight) {
        if (!(prefixWeight >= 0)) {
            throw new IllegalArgumentException("prefixWeight=" + prefixWeight + ", expected >= 0");
        }
        this.prefixWeight = prefixWeight;
    }

    /** Whether prefix affinity counts at all. */
    public boolean prefixAware() {
        return prefixWeight > 0;
    }

    /** Index into {@code replicas} of the choice for a prompt of {@code promptTokens} tokens; -1 if empty. */
    public int choose(List<ReplicaLoad> replicas, int promptTokens) {
        int best = -1;
        for (int i = 0; i < replicas.size(); i++) {
            if (best < 0 || better(replicas.get(i), replicas.get(best), promptTokens)) {
                best = i;
            }
        }
        return best;
    }

    /** The replica's score for the prompt: load less affinity; lower is better. */
    double score(ReplicaLoad r, int promptTokens) {
        double cached = promptTokens <= 0 ? 0 : Math.min(1.0, (double) r.prefixTokens() / promptTokens);
        return r.load() - prefixWeight * cached;
    }

    private static boolean fits(ReplicaLoad r, int promptTokens) {
        return r.kvFreeTokens() >= promptTokens - Math.min(promptTokens, r.prefixTokens());
    }

    private boolean better(ReplicaLoad a, ReplicaLoad b, int promptTokens) {
        boolean aFits = fits(a, promptTokens);
        boolean bFits = fits(b, promptTokens);
        if (aFits != bFits) {
            return aFits;
        }
        double sa = score(a, promptTokens);
        double sb = score(b, promptTokens);
        if (sa != sb) {
            return sa < sb;
        }
        if (a.kvFreeTokens() != b.kvFreeTokens()) {
            return a.kvFreeTokens() > b.kvFreeTokens();
        }
        return a.replica() < b.replica();
    }
}
