/**
 * The prefix cache's bookkeeping as plain classes: the hash chain that names a block of token
 * positions by everything up to and including it ({@link catena.worker.prefix.PrefixChain}), and
 * the index of cached blocks with their reference counts and LRU order
 * ({@link catena.worker.prefix.PrefixIndex}). No actors and no KV storage: what a block holds is
 * the caller's payload. The gateway uses the same chain to mirror what each replica caches.
 */
package catena.worker.prefix;
