/**
 * Serving metrics by Micrometer with its Prometheus registry: what a generation's stream shows
 * (time to first token, inter-token latency, end-to-end latency, tokens, finish reasons), the
 * gateway's running and waiting requests, and each stage's report. Names follow vLLM's meanings
 * under the {@code catena_} prefix (the README maps them). Depends on the session domain only.
 */
package catena.gateway.metrics;
