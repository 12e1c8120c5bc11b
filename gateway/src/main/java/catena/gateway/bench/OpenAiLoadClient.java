package catena.gateway.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Sends a benchmark's prompts to any OpenAI-compatible server ({@code POST /v1/completions},
 * streamed as server-sent events, the prompt as token ids), so Catena and llama-server can be
 * measured by the same command. Each event carrying text counts as one output token (Catena and
 * llama-server stream one token per event); the first one's arrival is the time to first token.
 */
public final class OpenAiLoadClient implements LoadClient {
    private final HttpClient http;
    private final URI completions;
    private final String model;
    private final String apiKey;
    private final int maxConcurrency;
    private final long timeoutSeconds;
    private final ObjectMapper json = new ObjectMapper();

    /** {@code baseUrl} like {@code http://host:8080/v1}; {@code apiKey} may be null. */
    public OpenAiLoadClient(HttpClient http, String baseUrl, String model, String apiKey, int maxConcurrency,
                            long timeoutSeconds) {
        this.http = http;
        this.completions = URI.create(baseUrl.replaceAll("/+$", "") + "/completions");
        this.model = model;
        this.apiKey = apiKey;
        this.maxConcurrency = maxConcurrency;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** The JSON body for one benchmark request. */
    String body(BenchRequest r) {
        ObjectNode b = json.createObjectNode();
        b.put("model", model);
        var prompt = b.putArray("prompt");
        for (int id : r.prompt()) {
            prompt.add(id);
        }
        b.put("max_tokens", r.maxTokens());
        b.put("temperature", r.temperature());
        b.put("seed", r.seed());
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        return b.toString();
    }

    @Override
    public List<RequestRecord> run(List<BenchRequest> requests, long[] sendAt, PrintStream progress, String label)
            throws InterruptedException {
        int n = requests.size();
        RequestRecord[] records = new RequestRecord[n];
        Semaphore slots = new Semaphore(maxConcurrency);
        CountDownLatch done = new CountDownLatch(n);
        Progress bar = new Progress(progress, label, n);
        long start = System.nanoTime();
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                long wait = sendAt[i] - (System.nanoTime() - start);
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                slots.acquire();
                int index = i;
                BenchRequest r = requests.get(i);
                readers.submit(() -> {
                    try {
                        records[index] = one(r, start);
                    } finally {
                        slots.release();
                        bar.finished();
                        done.countDown();
                    }
                });
            }
            done.await();
        }
        return List.of(records);
    }

    private RequestRecord one(BenchRequest r, long start) {
        long sent = System.nanoTime() - start;
        List<Long> times = new ArrayList<>();
        String error = null;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(completions).timeout(Duration.ofSeconds(timeoutSeconds))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body(r)));
            if (apiKey != null && !apiKey.isBlank()) {
                b.header("Authorization", "Bearer " + apiKey.strip());
            }
            HttpResponse<InputStream> response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                if (response.statusCode() != 200) {
                    StringBuilder text = new StringBuilder();
                    for (String line; (line = in.readLine()) != null; ) {
                        text.append(line);
                    }
                    error = "HTTP " + response.statusCode() + ": " + text;
                } else {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (!line.startsWith("data:")) {
                            continue;
                        }
                        String data = line.substring(5).strip();
                        if (data.equals("[DONE]")) {
                            break;
                        }
                        JsonNode event = json.readTree(data);
                        if (event.has("error")) {
                            error = event.get("error").toString();
                            break;
                        }
                        JsonNode choices = event.path("choices");
                        if (choices.size() > 0 && !choices.get(0).path("text").asText("").isEmpty()) {
                            times.add(System.nanoTime() - start);
                        }
                    }
                }
            }
        } catch (Exception e) {
            error = e.toString();
        }
        long[] t = new long[times.size()];
        for (int k = 0; k < t.length; k++) {
            t[k] = times.get(k);
        }
        return new RequestRecord(sent, t, System.nanoTime() - start, r.prompt().length, error);
    }
}
