package catena.gateway.openai;

import catena.gateway.session.GenerationRequest;

/**
 * A checked OpenAI request: which endpoint, the domain request, whether to stream (and to send a
 * usage chunk at the end), and whether the response carries log-probabilities.
 */
record ApiRequest(Endpoint endpoint, GenerationRequest generation, boolean stream, boolean includeUsage) {

    /** The two generating endpoints; they differ in prompt and response shapes. */
    enum Endpoint {
        /** {@code /v1/chat/completions}: messages in, an assistant message out. */
        CHAT,
        /** {@code /v1/completions}: a prompt in, its continuation out. */
        COMPLETION
    }

    boolean logprobs() {
        return generation.logprobs() != GenerationRequest.NO_LOGPROBS;
    }
}
