/**
 * Where a gateway sends a new sequence: the routing decision ({@link catena.gateway.route.Router}),
 * the loads it weighs, and cluster-unique sequence ids. Plain classes, no actors or gRPC.
 */
package catena.gateway.route;
