package catena.gateway.openai;

import catena.gateway.bridge.WarmupResult;
import catena.gateway.security.WarmupSecret;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * Calls this gateway's own OpenAI-compatible endpoint over loopback with the {@link WarmupSecret}
 * header, the way a client would (HTTP/1.1, TLS when served, JSON parsing, a whole completion and
 * a streamed chat completion in SSE), so the first client after SERVING does not pay for loading
 * and interpreting that path. Runs after the gRPC warm-up has warmed the sessions and stages.
 */
public final class HttpWarmup {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpWarmup() {
    }

    /**
     * {@code rounds} rounds against {@code 127.0.0.1:port} ({@code tls} null = plain HTTP) for model
     * {@code modelId}; each generation asks for {@code maxTokens} tokens and must end within
     * {@code callTimeout}.
     */
    public static WarmupResult run(int port, SSLContext tls, WarmupSecret secret, String modelId, String prompt,
                                   int rounds, int maxTokens, Duration callTimeout) throws InterruptedException {
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10));
        if (tls != null) {
            b.sslContext(tls);
        }
        String base = (tls == null ? "http" : "https") + "://127.0.0.1:" + port + "/v1/";
        ObjectNode completion = JSON.createObjectNode().put("model", modelId).put("prompt", prompt)
                .put("max_tokens", maxTokens).put("temperature", 0);
        ObjectNode chat = JSON.createObjectNode().put("model", modelId).put("max_tokens", maxTokens)
                .put("temperature", 0).put("stream", true);
        chat.putArray("messages").addObject().put("role", "user").put("content", prompt);
        WarmupResult.Tally tally = new WarmupResult.Tally("HTTP");
        try (HttpClient http = b.build()) {
            for (int round = 0; round < rounds; round++) {
                for (HttpRequest r : new HttpRequest[] {
                    request(base + "models", secret, callTimeout).GET().build(),
                    post(base + "completions", completion, secret, callTimeout),
                    post(base + "chat/completions", chat, secret, callTimeout)}) {
                    try {
                        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
                        tally.ended(response.statusCode() == 200 ? null : r.uri().getPath() + " answered "
                                + response.statusCode() + ": " + abbreviate(response.body()));
                    } catch (IOException e) {
                        tally.ended(r.uri().getPath() + ": " + e);
                    }
                }
            }
        }
        return tally.result();
    }

    private static HttpRequest.Builder request(String uri, WarmupSecret secret, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(uri)).timeout(timeout).header(WarmupSecret.HEADER, secret.value());
    }

    private static HttpRequest post(String uri, ObjectNode body, WarmupSecret secret, Duration timeout) {
        return request(uri, secret, timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    private static String abbreviate(String body) {
        return body.length() <= 200 ? body : body.substring(0, 200) + "...";
    }
}
