/**
 * Who may call the gateway: API keys from a file that is re-read when it changes, and the TLS
 * files a server presents. Transport-neutral: the gRPC and HTTP adapters apply them.
 */
package catena.gateway.security;
