package catena.gateway.app;

import catena.gateway.bridge.GenerationClient;
import catena.worker.actor.StageActor;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * {@code GET /metrics} in the Prometheus text format: per stage the sequences and KV-cache bytes
 * held, batches, rows, batches with more than one sequence and the largest batch; the gateway's
 * running generations. Served by the JDK's HTTP server on its own single thread.
 */
final class MetricsServer implements AutoCloseable {
    private final HttpServer http;
    private final GenerationClient client;

    private MetricsServer(HttpServer http, GenerationClient client) {
        this.http = http;
        this.client = client;
    }

    /** Starts serving on {@code port} (0 = any free port). */
    static MetricsServer start(int port, GenerationClient client) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(port), 16);
        MetricsServer m = new MetricsServer(http, client);
        http.createContext("/metrics", m::handle);
        http.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "catena-metrics");
            t.setDaemon(true);
            return t;
        }));
        http.start();
        return m;
    }

    int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        String body;
        int code = 200;
        try {
            body = render(client.activeSessions(), client.topology().replicas().isEmpty() ? List.of()
                    : client.stats().toCompletableFuture().get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            code = 503;
            body = "# stage statistics unavailable: " + e + "\n" + render(client.activeSessions(), List.of());
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static String render(int activeSessions, List<StageActor.StageStats> stages) {
        StringBuilder b = new StringBuilder();
        b.append("# HELP catena_gateway_active_sessions Generations running now.\n")
                .append("# TYPE catena_gateway_active_sessions gauge\n")
                .append("catena_gateway_active_sessions ").append(activeSessions).append('\n');
        metric(b, stages, "catena_stage_sequences", "gauge", "Sequences whose KV cache the stage holds.",
                StageActor.StageStats::sequences);
        metric(b, stages, "catena_stage_kv_cache_bytes", "gauge", "Bytes of KV cache the stage holds.",
                StageActor.StageStats::cacheBytes);
        metric(b, stages, "catena_stage_batches_total", "counter", "Forward passes run.",
                StageActor.StageStats::batches);
        metric(b, stages, "catena_stage_rows_total", "counter", "Rows (tokens) processed.",
                StageActor.StageStats::rows);
        metric(b, stages, "catena_stage_multi_sequence_batches_total", "counter",
                "Forward passes over more than one sequence.", StageActor.StageStats::multiSequenceBatches);
        metric(b, stages, "catena_stage_max_batch_sequences", "gauge", "Most sequences in one forward pass.",
                StageActor.StageStats::maxBatchSequences);
        return b.toString();
    }

    private static void metric(StringBuilder b, List<StageActor.StageStats> stages, String name, String type,
                               String help, ToLongFunction<StageActor.StageStats> value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (StageActor.StageStats s : stages) {
            b.append(name).append("{replica=\"").append(s.replica()).append("\",stage=\"").append(s.stageIndex()).append("\",layers=\"").append(s.fromLayer())
                    .append('-').append(s.toLayerExclusive()).append("\"} ").append(value.applyAsLong(s)).append('\n');
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
