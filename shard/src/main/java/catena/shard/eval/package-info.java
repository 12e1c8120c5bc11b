/**
 * Model evaluation as llama.cpp's {@code llama-perplexity} does it, so the numbers compare: the
 * chunk plan, log-softmax, the negative-log-likelihood statistics behind perplexity and its error,
 * the KL-divergence statistics against a saved base run, and that run's file. The statistics are
 * plain classes over numbers (JDK only); {@link catena.shard.eval.ChunkScorer} alone touches the
 * model. Must not depend on the CLI.
 */
package catena.shard.eval;
