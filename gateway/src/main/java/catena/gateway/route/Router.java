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
 * scale. A prompt no replica caches at all goes, load being equal, where the cache is emptiest:
 * its fill (0..1) weighs as much as a fully cached prompt, so a new system prompt does not join
 * the ones a replica already holds while another has room, where they would evict one another
 * (seen as 3 of 4 system prompts on one replica that holds 2.5). Ties go to more free KV
 * capacity, then the lower index. Pure; no state.
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
        boolean cold = true;
        for (ReplicaLoad r : replicas) {
            cold &= r.prefixTokens() == 0;
        }
        int best = -1;
        for (int i = 0; i < replicas.size(); i++) {
            if (best < 0 || better(replicas.get(i), replicas.get(best), promptTokens, cold)) {
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

    /** As {@link #score}; for a prompt cached nowhere ({@code cold}), plus the fill of the replica's cache. */
    double score(ReplicaLoad r, int promptTokens, boolean cold) {
        return score(r, promptTokens) + (cold ? prefixWeight * Math.clamp(r.cacheFill(), 0.0, 1.0) : 0);
    }

    private static boolean fits(ReplicaLoad r, int promptTokens) {
        return r.kvFreeTokens() >= promptTokens - Math.min(promptTokens, r.prefixTokens());
    }

    private boolean better(ReplicaLoad a, ReplicaLoad b, int promptTokens, boolean cold) {
        boolean aFits = fits(a, promptTokens);
        boolean bFits = fits(b, promptTokens);
        if (aFits != bFits) {
            return aFits;
        }
        double sa = score(a, promptTokens, cold);
        double sb = score(b, promptTokens, cold);
        if (sa != sb) {
            return sa < sb;
        }
        if (a.kvFreeTokens() != b.kvFreeTokens()) {
            return a.kvFreeTokens() > b.kvFreeTokens();
        }
        return a.replica() < b.replica();
    }
}
