/** Protobuf ({@code catena.cluster.v1}) serialization of the messages that cross JVMs. No Java serialization. */
package catena.worker.serial;
