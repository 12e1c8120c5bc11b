package catena.shard.sample;

/** The refusal for logits that hold NaN or +infinity (or are all -infinity): no distribution to draw from. */
final class NonFiniteLogits {
    private NonFiniteLogits() {
    }

    static IllegalArgumentException at(float[] l, int base, int vocab) {
        for (int i = 0; i < vocab; i++) {
            float v = l[base + i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                return new IllegalArgumentException("logits are not finite: logits[" + i + "]=" + v
                        + ", expected no NaN or +Infinity");
            }
        }
        return new IllegalArgumentException("logits are not finite: all " + vocab
                + " are -Infinity, expected at least one finite logit");
    }
}
