package catena.gateway.route;

import java.util.List;

/**
 * Chooses the replica for a new sequence: the one with the most room. A replica whose free KV
 * capacity cannot hold the prompt is chosen only when none can; among the rest, each cached prefix
 * block counts as much as {@code prefixWeight} sequences of load (prefix affinity, as llm-d's
 * scheduler weighs cache hits against queue), so a replica that already holds the prompt's
 * system prompt wins unless it is much busier. Ties go to more free KV capacity, then the lower index.
 * Pure; no state.
 */
public final class Router {
    private final double prefixWeight;

    /** {@code prefixWeight}: sequences of load one cached prefix block is worth (0 = load only). */
    public Router(double prefixWeight) {
        this.prefixWeight = prefixWeight;
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

    private boolean better(ReplicaLoad a, ReplicaLoad b, int promptTokens) {
        boolean aFits = a.kvFreeTokens() >= promptTokens;
        boolean bFits = b.kvFreeTokens() >= promptTokens;
        if (aFits != bFits) {
            return aFits;
        }
        double sa = a.load() - prefixWeight * a.prefixBlocks();
        double sb = b.load() - prefixWeight * b.prefixBlocks();
        if (sa != sb) {
            return sa < sb;
        }
        if (a.kvFreeTokens() != b.kvFreeTokens()) {
            return a.kvFreeTokens() > b.kvFreeTokens();
        }
        return a.replica() < b.replica();
    }
}
