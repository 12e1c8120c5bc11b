/**
 * What a stage actor computes with: a slice of a model behind {@link catena.worker.engine.StageEngine}
 * (the real one wraps {@code catena.shard.model.Model}). No actors or networking here; the
 * interface exists so that the actor plumbing can also be tested with a tiny engine.
 */
package catena.worker.engine;
