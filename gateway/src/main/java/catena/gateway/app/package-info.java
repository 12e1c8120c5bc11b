/** The catena launcher: serve (embedded, gateway or worker node) and the generate client. */
package catena.gateway.app;
