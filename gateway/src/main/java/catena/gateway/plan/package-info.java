/**
 * The fleet plan as plain values and the pure decision that makes it: which worker serves which
 * stage of which pipeline replica, which workers are hot spares, and why replicas are missing.
 * The plan owner actor calls {@link catena.gateway.plan.FleetPlanner}; nothing here knows of
 * actors, Pekko or gRPC, and it must not depend on them (only on {@code catena.worker.plan}).
 */
package catena.gateway.plan;
