package catena.gateway.route;

/**
 * What a gateway knows of one ready replica when it routes: its index and epoch, the sequences
 * this gateway runs on it now (exact), the sequences other gateways run on it (estimated from the
 * last report), its KV capacity free and in total in token positions (as last reported), and how
 * many leading tokens of the prompt its prefix cache is believed to hold (0 when unknown), and
 * how full of the prompts this gateway sent it its prefix cache is believed to be (0..1).
 */
public record ReplicaLoad(int replica, long epoch, int own, int others, long kvFreeTokens, long kvTotalTokens,
                          int prefixTokens, double cacheFill) {
    /** Without a belief about its cache's fill. */
    public ReplicaLoad(int replica, long epoch, int own, int others, long kvFreeTokens, long kvTotalTokens,
                       int prefixTokens) {
        this(replica, epoch, own, others, kvFreeTokens, kvTotalTokens, prefixTokens, 0);
    }

    /** Sequences it is expected to run. */
    public int load() {
        return own + others;
    }
}
