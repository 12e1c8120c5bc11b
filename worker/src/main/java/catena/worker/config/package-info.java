/** Pekko settings of Catena nodes (embedded, gateway, worker). */
package catena.worker.config;
