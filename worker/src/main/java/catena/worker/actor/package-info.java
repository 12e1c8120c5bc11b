/**
 * Pekko typed actors of a pipeline stage: {@link catena.worker.actor.StageActor} holds a layer
 * range and the KV caches of the sequences passing through, batches everything that has arrived
 * into one forward pass, and forwards along the ring. Does no math itself (the engine does) and
 * knows nothing of gRPC.
 */
package catena.worker.actor;
