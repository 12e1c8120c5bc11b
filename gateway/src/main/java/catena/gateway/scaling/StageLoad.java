package catena.gateway.scaling;

/**
 * The load one stage reported (its {@code GetStats} answer, reduced to what scaling reads).
 *
 * @param sequences sequences the stage holds KV memory for now
 * @param waiting sequences waiting for the stage to admit them (its KV memory is full)
 * @param kvBlocksUsed KV blocks in use
 * @param kvBlocksTotal KV blocks the stage has (0 before it is loaded)
 */
public record StageLoad(int sequences, int waiting, int kvBlocksUsed, int kvBlocksTotal) {
    public StageLoad {
        if (sequences < 0 || waiting < 0 || kvBlocksUsed < 0 || kvBlocksTotal < 0 || kvBlocksUsed > kvBlocksTotal) {
            throw new IllegalArgumentException("stage load: sequences=" + sequences + ", waiting=" + waiting
                    + ", kvBlocksUsed=" + kvBlocksUsed + ", kvBlocksTotal=" + kvBlocksTotal
                    + ", expected counts >= 0 and kvBlocksUsed <= kvBlocksTotal");
        }
    }
}
