/**
 * The serving benchmark ({@code catena bench serve}): a load of prompts sent at a fixed
 * concurrency or a request rate, each request's timestamps recorded, and the serving figures
 * (time to first token, time per output token, inter-token latency, end-to-end latency,
 * throughput, goodput) computed from them. Arrival planning and the figures are plain classes;
 * the transport is one adapter ({@link catena.gateway.bench.GrpcLoadClient}).
 */
package catena.gateway.bench;
