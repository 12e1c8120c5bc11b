package catena.shard.model;

/** A KV pool has no page left within its byte budget (the admission budget let too much in). */
public final class KvPoolExhaustedException extends IllegalStateException {
    public KvPoolExhaustedException(String message) {
        super(message);
    }
}
