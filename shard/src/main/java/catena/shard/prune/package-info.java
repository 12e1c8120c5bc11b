/**
 * Structured pruning of a GGUF model (FFN neurons, query heads, whole layers) by importance
 * measured on calibration text, with an optional layer-wise repair of the output projections by
 * ridge least squares against the unpruned teacher, and the writing of the smaller model as a
 * GGUF both Catena and llama.cpp load. Reads models through {@code catena.shard.model} and
 * {@code catena.shard.gguf}; must not depend on the CLI.
 */
package catena.shard.prune;
