package catena.gateway.app;

import catena.gateway.metrics.StageMetrics;
import catena.gateway.security.ApiKeys;
import catena.worker.actor.StageActor;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: the node's Micrometer registry in the Prometheus text format, the stages'
 * meters refreshed from their reports at each scrape (the gateway's covers every stage of the
 * cluster; a worker's, its own stage). The scrape endpoint of an internal port, on its own thread.
 */
final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

    private final HttpServer http;
    private final PrometheusMeterRegistry registry;
    private final StageMetrics stages;
    private final Supplier<CompletionStage<List<StageActor.StageStats>>> reports;
    private final BooleanSupplier serving;
    private final ApiKeys keys;

    private MetricsServer(HttpServer http, PrometheusMeterRegistry registry,
                          Supplier<CompletionStage<List<StageActor.StageStats>>> reports, BooleanSupplier serving,
                          ApiKeys keys) {
        this.keys = keys;
        this.http = http;
        this.registry = registry;
        this.stages = new StageMetrics(registry);
        this.reports = reports;
        this.serving = serving;
    }

    /**
     * Starts serving on {@code port} (0 = any free port). With {@code serving} (a gateway), also
     * {@code GET /ready}: 200 while {@code serving} holds (a gateway: a replica is ready; a worker:
     * its stage has loaded its slot's layers or waits as a spare, and is not draining), else 503 —
     * the readiness probe a kubelet
     * can use when gRPC runs over TLS (its gRPC probes speak plaintext only). With {@code keys}
     * (non-null), {@code /metrics} needs {@code Authorization: Bearer KEY} of them; {@code /ready}
     * stays open for probes.
     */
    static MetricsServer start(int port, PrometheusMeterRegistry registry,
                               Supplier<CompletionStage<List<StageActor.StageStats>>> reports, BooleanSupplier serving,
                               ApiKeys keys) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(port), 16);
        MetricsServer m = new MetricsServer(http, registry, reports, serving, keys);
        http.createContext("/metrics", m::handle);
        if (serving != null) {
            http.createContext("/ready", m::ready);
        }
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
        if (keys != null && !keys.accepts(ApiKeys.bearer(ex.getRequestHeaders().getFirst("Authorization")))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            send(ex, 401, "text/plain; charset=utf-8",
                    "metrics need 'Authorization: Bearer <key>' with a key of --api-key-file\n");
            return;
        }
        try {
            stages.update(reports.get().toCompletableFuture().get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            // the other meters are still worth a scrape; the stages' keep their last values
            LOG.warn("stage reports unavailable for /metrics: {}", e.toString());
        }
        String accept = ex.getRequestHeaders().getFirst("Accept");
        String contentType = accept != null && accept.contains("application/openmetrics-text")
                ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                : "text/plain; version=0.0.4; charset=utf-8";
        send(ex, 200, contentType, registry.scrape(contentType));
    }

    private void ready(HttpExchange ex) throws IOException {
        boolean up = serving.getAsBoolean();
        send(ex, up ? 200 : 503, "text/plain; charset=utf-8", up ? "SERVING\n" : "NOT_SERVING\n");
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
