/**
 * The OpenAI-compatible HTTP API ({@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/models}) on pekko-http: JSON to the domain's {@code GenerationRequest}, the
 * session's outputs to JSON or server-sent events. Drives generations through the same
 * transport-neutral seam as the gRPC service ({@code GenerationClient}, {@code GenerationSink},
 * {@code GenerationHandle}); knows no gRPC types and no actors.
 */
package catena.gateway.openai;
