/**
 * A stage's decisions as plain classes: which sequences it holds ({@link catena.worker.stage.SequenceTable}),
 * which rows its next forward pass runs under the token and KV budgets, and whom to preempt when
 * KV blocks run out ({@link catena.worker.stage.StageScheduler}). No actors, no messages: the
 * stage actor moves messages and calls these; unit tests drive them directly.
 */
package catena.worker.stage;
