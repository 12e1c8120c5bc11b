/**
 * The fleet plan as a pure decision: which worker holds which stage of which replica, who stands
 * by as a spare ({@link catena.gateway.plan.FleetPlanner}). No actors, no gRPC; the plan owner
 * actor wires it to messages.
 */
package catena.gateway.plan;
