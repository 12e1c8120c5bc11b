package catena.gateway.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;

/**
 * A request the API answers with an error: the HTTP status and OpenAI's error object
 * ({@code {"error":{"message","type","param","code"}}}). {@code retryAfter} is set for 429 only.
 */
final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Duration retryAfter;

    ApiError(int status, String type, String param, String code, String message, Duration retryAfter) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    /** 400 for a bad field: "{param}={value}, expected {rule}" (STYLE.md's message format). */
    static ApiError invalid(String param, Object value, String rule) {
        return new ApiError(400, "invalid_request_error", param, "invalid_value",
                param + "=" + value + ", expected " + rule, null);
    }

    /** 400 for a request that cannot be served as a whole (no field to blame, or several). */
    static ApiError badRequest(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message, null);
    }

    static ApiError unknownModel(String model, String served) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "model=" + model + " does not exist; this server serves " + served, null);
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, "invalid_request_error", null, "invalid_api_key", message, null);
    }

    static ApiError notFound(String method, String path) {
        return new ApiError(404, "invalid_request_error", null, "unknown_url",
                "unknown endpoint: " + method + " " + path, null);
    }

    /** The response to a request whose generation was cancelled because its client closed (or half-closed) the connection. */
    static ApiError clientClosed() {
        return new ApiError(400, "invalid_request_error", null, "client_closed",
                "the client closed the connection before the response; the generation was cancelled", null);
    }

    static ApiError overloaded(String message, Duration retryAfter) {
        return new ApiError(429, "rate_limit_error", null, "server_overloaded", message, retryAfter);
    }

    static ApiError unavailable(String message) {
        return new ApiError(503, "service_unavailable", null, "pipeline_not_ready", message, null);
    }

    static ApiError internal(String id) {
        return new ApiError(500, "server_error", null, null, "internal error (id " + id + ")", null);
    }

    int status() {
        return status;
    }

    /** Seconds for the Retry-After header (at least 1), or 0 when there is none. */
    long retryAfterSeconds() {
        return retryAfter == null ? 0 : Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }

    /** The body, OpenAI's error object. */
    ObjectNode toJson(ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
