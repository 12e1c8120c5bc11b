/** The bridge between gRPC calls and the actors: admission, one session actor per generation. */
package catena.gateway.bridge;
