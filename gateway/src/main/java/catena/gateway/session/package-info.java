/** Per-request generation sessions: detokenizing, stop strings, flow control, freeing caches. No gRPC service code. */
package catena.gateway.session;
