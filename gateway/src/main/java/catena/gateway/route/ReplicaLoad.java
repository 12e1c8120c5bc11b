package catena.gateway.route;

/**
 * What a gateway knows of one ready replica when it routes: its index and epoch, the sequences
 * this gateway runs on it now (exact), the sequences other gateways run on it (estimated from the
 * last report), its KV capacity free and in total in token positions (as last reported), and how
 * many leading tokens of the prompt its prefix cache is believed to hold (0 when unknown).
 */
public record ReplicaLoad(int replica, long epoch, int own, int others, long kvFreeTokens, long kvTotalTokens,
                          int prefixTokens) {

    /** Sequences it is expected to run. */
    public int load() {
        return own + others;
    }
}
