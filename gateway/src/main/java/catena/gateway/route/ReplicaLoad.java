package catena.gateway.route;

/**
 * What a gateway knows of one ready replica when it routes: its index and epoch, the sequences
 * its stage 0 holds and has waiting, its KV capacity free and in total in token positions (as last reported), the
 * sequences this gateway sent it since that report, and how many leading blocks of the prompt its
 * prefix cache holds (0 when unknown).
 */
public record ReplicaLoad(int replica, long epoch, int sequences, int waiting, long kvFreeTokens, long kvTotalTokens,
                          int sentSinceReport, int prefixBlocks) {

    /** Sequences it is expected to run, counting what was sent since its last report. */
    public int load() {
        return sequences + waiting + sentSinceReport;
    }
}
