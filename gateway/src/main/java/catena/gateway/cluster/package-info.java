/** The pipeline coordinator: which stage holds which layers, and the current ring. No gRPC here. */
package catena.gateway.cluster;
