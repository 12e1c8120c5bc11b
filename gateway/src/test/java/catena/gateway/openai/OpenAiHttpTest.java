package catena.gateway.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.ToyTokenizer;
import catena.gateway.app.CatenaNode;
import catena.gateway.app.CatenaNode.GatewaySettings;
import catena.gateway.app.StageSettings;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.worker.actor.StageActor;
import catena.worker.engine.ModelFacts;
import catena.worker.engine.StageEngineFactory;
import catena.worker.engine.ToyEngine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HTTP API's errors and stream lifecycle with raw requests (the JDK's HTTP client) against an
 * embedded server on the toy engine: 400s naming the field and value, 404, 429 with Retry-After,
 * 503 while loading, and a client that disconnects mid-stream freeing its sequence on every stage.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpenAiHttpTest {
    private static final int LAYERS = 4;
    private static final int VOCAB = 97;
    private static final int CONTEXT = 512;
    private static final String MODEL = "toy.gguf";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newHttpClient();
    private final CountDownLatch loading = new CountDownLatch(1);
    private CatenaNode node;
    private String base;

    @AfterEach
    void close() {
        loading.countDown();
        http.close();
        if (node != null) {
            node.close();
        }
    }

    private void start(int stages, StageEngineFactory engines, int maxSessions) throws Exception {
        start(stages, engines, maxSessions, StageSettings.defaults().withWarmupRounds(0));
    }

    private void start(int stages, StageEngineFactory engines, int maxSessions, StageSettings settings)
            throws Exception {
        ServedModel model = ServedModel.of(Path.of(MODEL), new ModelFacts("toy", LAYERS, ToyEngine.DIM, VOCAB, CONTEXT),
                new ToyTokenizer(VOCAB), null);
        long[] layerBytes = new long[LAYERS];
        Arrays.fill(layerBytes, 100);
        node = CatenaNode.embedded(PlanOwner.Settings.of(Path.of(MODEL), false, stages, layerBytes), 1, model,
                engines, settings,
                InProcessServerBuilder.forName(InProcessServerBuilder.generateName()),
                new GatewaySettings(maxSessions, Duration.ofSeconds(10)));
        base = "http://127.0.0.1:" + node.serveOpenAi("127.0.0.1", 0, catena.gateway.security.Access.OPEN);
    }

    private void startLoaded(int stages, long delayMillis, int maxSessions) throws Exception {
        start(stages, ToyEngine.factory(LAYERS, VOCAB, CONTEXT, delayMillis), maxSessions);
        await().atMost(Duration.ofSeconds(10)).until(() -> node.topology().serving());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<InputStream> stream(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }

    /** The toy model's greedy continuation of {@code prompt} (EOS = id 1 ends it). */
    private static boolean runsWithoutEos(int[] prompt, int n) {
        int token = prompt[prompt.length - 1];
        for (int i = 0; i < n; i++) {
            token = ToyEngine.next(token, prompt.length - 1 + i, LAYERS, VOCAB);
            if (token == 1) {
                return false;
            }
        }
        return true;
    }

    /** A 3-token prompt whose toy continuation runs {@code n} tokens without EOS, as JSON ids. */
    private static String endless(int n) {
        for (int j = 2; j < VOCAB; j++) {
            for (int k = 2; k < VOCAB; k++) {
                if (runsWithoutEos(new int[] {2, j, k}, n)) {
                    return "[2," + j + "," + k + "]";
                }
            }
        }
        throw new AssertionError("no 3-token toy prompt runs " + n + " tokens without EOS");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "\"temperature\":5|temperature|temperature=5.0, expected a number in [0, 2] (0 = greedy)",
        "\"top_p\":0|top_p|top_p=0.0, expected a number in (0, 1]",
        "\"n\":2|n|n=2, expected 1 (one choice per request)",
        "\"presence_penalty\":0.5|presence_penalty|presence_penalty=0.5, expected 0 (this server has no"
                + " presence_penalty; use repetition_penalty)",
        "\"frequency_penalty\":-1|frequency_penalty|frequency_penalty=-1, expected 0 (this server has no"
                + " frequency_penalty; use repetition_penalty)",
        "\"stop\":7|stop|stop=7, expected a string or an array of strings",
        "\"stop\":[\"\"]|stop|stop=[\"\"], expected strings of 1..256 characters",
        "\"max_tokens\":0|max_tokens|max_tokens=0, expected >= 1",
        "\"max_tokens\":600|max_tokens|max_tokens=600, expected at most 509: the prompt has 3 tokens and the"
                + " context length is 512",
        "\"max_tokens\":\"ten\"|max_tokens|max_tokens=\"ten\", expected an integer",
        "\"logprobs\":21|logprobs|logprobs=21, expected 0..20 (alternatives per token)",
        "\"seed\":1.5|seed|seed=1.5, expected an integer",
        "\"stream_options\":{\"include_usage\":true}|stream_options|stream_options={\"include_usage\":true},"
                + " expected null unless stream is true",
        "\"echo\":true|echo|echo=true, expected false (the prompt is not echoed)",
        "\"top_k\":-1|top_k|top_k=-1, expected >= 0 (0 = off)",
        "\"min_p\":2|min_p|min_p=2.0, expected a number in [0, 1]",
        "\"repetition_penalty\":0|repetition_penalty|repetition_penalty=0.0, expected a finite number > 0 (1 = off)",
    })
    void shouldAnswer400NamingTheFieldAndValueWhenAFieldIsBad(String field, String param, String message)
            throws Exception {
        startLoaded(1, 0, 4);
        HttpResponse<String> r = post("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":[2,3,4]," + field
                + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo(param);
        assertThat(error(r).get("message").asText()).isEqualTo(message);
        assertThat(error(r).get("type").asText()).isEqualTo("invalid_request_error");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/v1/completions|{\"model\":\"toy.gguf\",\"prompt\":[2,999]}|prompt[1]|prompt[1]=999, expected a token id"
                + " in [0, 97)",
        "/v1/completions|{\"model\":\"toy.gguf\",\"prompt\":[\"a\",\"b\"]}|prompt|prompt=an array of 2 prompts,"
                + " expected one prompt per request (n = 1)",
        "/v1/completions|{\"model\":\"toy.gguf\",\"prompt\":\"\"}|prompt|prompt=\"\", expected a non-empty string",
        "/v1/completions|{\"model\":\"toy.gguf\"}|prompt|prompt is missing: expected a string or an array of token"
                + " ids",
        "/v1/completions|{\"prompt\":\"hi\"}|model|model is missing: expected \"toy.gguf\"",
        "/v1/chat/completions|{\"model\":\"toy.gguf\",\"messages\":[]}|messages|messages=[], expected a non-empty"
                + " array of {role, content}",
        "/v1/chat/completions|{\"model\":\"toy.gguf\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"top_logprobs\":2}|top_logprobs|top_logprobs=2, expected null unless logprobs is true",
        "/v1/chat/completions|{\"model\":\"toy.gguf\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                + "|messages|the served model toy.gguf has no chat template; use /v1/completions",
    })
    void shouldAnswer400WhenThePromptIsBad(String path, String body, String param, String message) throws Exception {
        startLoaded(1, 0, 4);
        HttpResponse<String> r = post(path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).get("param").asText()).isEqualTo(param);
        assertThat(error(r).get("message").asText()).isEqualTo(message);
    }

    @Test
    void shouldAnswer400WhenTheBodyIsNotJson() throws Exception {
        startLoaded(1, 0, 4);
        HttpResponse<String> r = post("/v1/completions", "{not json");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("message").asText()).startsWith("request body is not valid JSON: ");
    }

    @Test
    void shouldAnswer400WhenTheBodyIsNotUtf8() throws Exception {
        startLoaded(1, 0, 4);
        byte[] head = ("{\"model\":\"" + MODEL + "\",\"prompt\":\"Hi").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] body = java.util.Arrays.copyOf(head, head.length + 5);
        // the bytes of a lone surrogate (U+D800), which UTF-8 forbids, then the end of the JSON
        body[head.length] = (byte) 0xED;
        body[head.length + 1] = (byte) 0xA0;
        body[head.length + 2] = (byte) 0x80;
        body[head.length + 3] = '"';
        body[head.length + 4] = '}';
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).get("message").asText()).startsWith("request body is not valid JSON: ")
                .containsIgnoringCase("UTF-8");
    }

    @Test
    void shouldAnswer413WhenTheBodyIsTooLarge() throws Exception {
        startLoaded(1, 0, 4);
        // As curl sends a large body: 'Expect: 100-continue', so the server's early 413 (it reads the
        // Content-Length) reaches the client before it sends 4 MB that the server will not read; without
        // it the server's close can reset the connection under the response.
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"prompt\":\""
                        + "a".repeat((int) OpenAiServer.MAX_BODY_BYTES) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(error(r).get("message").asText()).isEqualTo("request body exceeds 4194304 bytes");
    }

    @Test
    void shouldAnswer404ForAnUnknownModelOrPath() throws Exception {
        startLoaded(1, 0, 4);
        HttpResponse<String> r = post("/v1/completions", "{\"model\":\"gpt-4o\",\"prompt\":[2,3]}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(error(r).get("code").asText()).isEqualTo("model_not_found");
        assertThat(error(r).get("message").asText()).isEqualTo("model=gpt-4o does not exist; this server serves"
                + " toy.gguf");
        HttpResponse<String> model = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/" + MODEL))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(model.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(model.body()).get("id").asText()).isEqualTo(MODEL);
        HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/gpt-4o"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).isEqualTo(404);
        HttpResponse<String> path = post("/v1/embeddings", "{}");
        assertThat(path.statusCode()).isEqualTo(404);
        assertThat(error(path).get("message").asText()).isEqualTo("unknown endpoint: POST /v1/embeddings");
    }

    @Test
    void shouldAnswer503WhileThePipelineIsLoading() throws Exception {
        StageEngineFactory toy = ToyEngine.factory(LAYERS, VOCAB, CONTEXT, 0);
        start(1, (path, f32, from, to) -> {
            try {
                loading.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return toy.open(path, f32, from, to);
        }, 4);
        HttpResponse<String> r = post("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":[2,3]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(error(r).get("type").asText()).isEqualTo("service_unavailable");
        assertThat(error(r).get("message").asText()).startsWith("no pipeline replica is ready; retry later");
        loading.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> node.topology().serving());
        assertThat(post("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":[2,3],\"max_tokens\":2}")
                .statusCode()).isEqualTo(200);
    }

    @Test
    void shouldAnswer429WithRetryAfterWhenTheGatewayIsFull() throws Exception {
        startLoaded(1, 10, 1);
        HttpResponse<InputStream> first = stream("{\"model\":\"" + MODEL + "\",\"prompt\":" + endless(150)
                + ",\"max_tokens\":150,\"temperature\":0,\"stream\":true}");
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(first.body(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).startsWith("data: {");
            HttpResponse<String> r = post("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":[2,3]}");
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().firstValue("Retry-After")).contains("1");
            assertThat(error(r).get("type").asText()).isEqualTo("rate_limit_error");
            assertThat(error(r).get("message").asText()).isEqualTo("too many concurrent generations (limit 1);"
                    + " retry later");
        }
    }

    @Test
    void shouldFreeTheSequenceOnEveryStageWhenTheClientDisconnectsMidStream() throws Exception {
        // ~20 ms per token through 2 stages: 150 tokens would take ~3 s; the client leaves after 3.
        startLoaded(2, 10, 4);
        int maxTokens = 150;
        HttpResponse<InputStream> r = stream("{\"model\":\"" + MODEL + "\",\"prompt\":" + endless(maxTokens)
                + ",\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"stream\":true}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/event-stream"));
        BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        int events = 0;
        while (events < 3) {
            String line = lines.readLine();
            assertThat(line).isNotNull();
            if (line.startsWith("data: {")) {
                events++;
            }
        }
        List<StageActor.StageStats> during = node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(during).hasSize(2).allSatisfy(s -> assertThat(s.sequences()).isEqualTo(1));
        lines.close();
        // Every stage frees the sequence (and the rows below show it was cut short, not finished).
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(node.client().activeSessions()).isZero();
            assertThat(node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS)).hasSize(2)
                    .allSatisfy(s -> {
                        assertThat(s.sequences()).isZero();
                        assertThat(s.cacheBytes()).isZero();
                    });
        });
        List<StageActor.StageStats> after = node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(after.get(0).rows()).as("rows the first stage ran: the generation was cut short")
                .isLessThan(3 + maxTokens - 1);
    }

    @Test
    void shouldFreeTheSequenceWhenTheClientOfAWholeCompletionGivesUp() throws Exception {
        startLoaded(2, 10, 4);
        int maxTokens = 150;
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").timeout(Duration.ofMillis(400))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"prompt\":"
                        + endless(maxTokens) + ",\"max_tokens\":" + maxTokens + ",\"temperature\":0}")).build();
        assertThatThrownBy(() -> http.send(request, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.net.http.HttpTimeoutException.class);
        // The JDK client closes the connection on its timeout; the server cancels the generation.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(node.client().activeSessions()).isZero();
            assertThat(node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS)).hasSize(2)
                    .allSatisfy(s -> assertThat(s.sequences()).isZero());
        });
        List<StageActor.StageStats> after = node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(after.get(0).rows()).as("rows the first stage ran: the generation was cut short")
                .isPositive().isLessThan(3 + maxTokens - 1);
    }

    @Test
    void shouldCancelAndAnswerWhenTheClientHalfClosesBeforeAWholeResponse() throws Exception {
        startLoaded(2, 10, 4);
        int maxTokens = 150;
        byte[] body = ("{\"model\":\"" + MODEL + "\",\"prompt\":" + endless(maxTokens) + ",\"max_tokens\":"
                + maxTokens + ",\"temperature\":0}").getBytes(StandardCharsets.UTF_8);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", URI.create(base).getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type:"
                    + " application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> node.client().activeSessions() == 1);
            socket.shutdownOutput();
            // Answered at once (not after the 150 tokens, not never), and the sequence is freed.
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 400 ").contains("\"code\":\"client_closed\"");
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(node.client().activeSessions()).isZero();
            assertThat(node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .allSatisfy(s -> assertThat(s.sequences()).isZero());
        });
        assertThat(node.client().stats().toCompletableFuture().get(5, TimeUnit.SECONDS).get(0).rows())
                .isLessThan(3 + maxTokens - 1);
    }

    @Test
    void shouldAnswerWithTheFailuresStatusWhenTheStagesRejectTheSequenceBeforeAnyOutput() throws Exception {
        // KV memory for 2 blocks of 16 positions: a 40-token prompt plus the reserve can never fit.
        start(1, ToyEngine.factory(LAYERS, VOCAB, CONTEXT, 0), 4, new StageSettings(2 * 16 * LAYERS * 2
                * ToyEngine.DIM * Float.BYTES, 16, 256, 2, 16, 256, StageSettings.AUTO, 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> node.topology().serving());
        String prompt = Arrays.toString(new int[40]).replace(" ", "");
        for (String stream : List.of("false", "true")) {
            HttpResponse<String> r = post("/v1/completions", "{\"model\":\"" + MODEL + "\",\"prompt\":" + prompt
                    + ",\"max_tokens\":4,\"stream\":" + stream + "}");
            assertThat(r.statusCode()).as("stream=" + stream + ": " + r.body()).isEqualTo(429);
            assertThat(r.headers().firstValue("Retry-After")).contains("1");
            assertThat(error(r).get("type").asText()).isEqualTo("rate_limit_error");
        }
    }
}
