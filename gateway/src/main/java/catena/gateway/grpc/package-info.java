/** The gRPC service: validation, mapping to and from the domain, status codes. Knows no actors. */
package catena.gateway.grpc;
