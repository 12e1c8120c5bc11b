package catena.gateway.app;

import catena.gateway.cluster.TopologyView;
import catena.gateway.bridge.WarmupResult;
import catena.gateway.grpc.LoopbackWarmup;
import catena.gateway.openai.HttpWarmup;
import catena.gateway.security.WarmupSecret;
import io.grpc.ChannelCredentials;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When this gateway says it serves (gRPC health, {@code /ready}): a replica is ready and, the
 * first time one is, the gateway has sent its own endpoint a few generations over loopback
 * ({@link LoopbackWarmup}), so the first client after SERVING finds the request path compiled.
 * The stages warm their kernels before they report loaded; this warms everything around them.
 * A warm-up that fails or times out is logged and SERVING follows anyway: it only costs speed.
 */
final class GatewayWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayWarmup.class);
    /** A short text prompt: the tokenizer, prefill and decode all run. */
    static final String PROMPT = "Once upon a time, in a small town by the sea, there lived";
    static final int MAX_TOKENS = 8;
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    private final TopologyView view;
    private final int rounds;
    private final int maxSessions;
    private final ChannelCredentials credentials;
    private final WarmupSecret secret;
    /** The HTTP API to warm as well, once it is served; null until then. */
    private volatile HttpEndpoint http;
    private final AtomicBoolean listening = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean done;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final List<WarmupResult> results = new CopyOnWriteArrayList<>();

    /**
     * {@code rounds} 0 = no warm-up: serving as soon as a replica is ready; at most
     * {@code maxSessions} (the gateway's admission bound) generations at once.
     */
    GatewayWarmup(TopologyView view, int rounds, int maxSessions, ChannelCredentials credentials,
                  WarmupSecret secret) {
        this.view = view;
        this.rounds = rounds;
        this.maxSessions = maxSessions;
        this.credentials = credentials;
        this.secret = secret;
        this.done = new AtomicBoolean(rounds == 0);
    }

    /** The HTTP API this gateway serves: port, client TLS context (null = plain) and model id. */
    record HttpEndpoint(int port, javax.net.ssl.SSLContext tls, String modelId) {
    }

    /** The secret its warm-up calls carry; transports mark calls that present it. */
    WarmupSecret secret() {
        return secret;
    }

    /** Warms the HTTP API too; called as it binds, before {@link #start}. */
    void http(HttpEndpoint endpoint) {
        this.http = endpoint;
    }

    /**
     * Warms up through gRPC {@code port} (and the HTTP API, if {@link #http} was called) once a
     * replica is ready, or now if one is. Called once every transport is bound; later calls do nothing.
     */
    void start(int port) {
        if (!listening.compareAndSet(false, true)) {
            return;
        }
        java.util.function.Consumer<catena.worker.plan.Topology> maybe = t -> {
            if (!t.ready().isEmpty() && !done.get() && started.compareAndSet(false, true)) {
                Thread.ofVirtual().name("catena-gateway-warmup").start(() -> run(port, t.ready().size()));
            }
        };
        view.listen(maybe);
        maybe.accept(view.current());
    }

    private void run(int port, int replicas) {
        try {
            // two sequences per replica at once, so each replica's stages run a batched pass
            int concurrency = Math.min(maxSessions, Math.max(2, 2 * replicas));
            report(LoopbackWarmup.run(port, credentials, secret, PROMPT, rounds, concurrency, MAX_TOKENS,
                    CALL_TIMEOUT));
            HttpEndpoint h = http;
            if (h != null) {
                report(HttpWarmup.run(h.port(), h.tls(), secret, h.modelId(), PROMPT, rounds, MAX_TOKENS, CALL_TIMEOUT));
            } else {
                LOG.info("gateway warm-up: no HTTP API served (yet); its first request runs cold");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("gateway warm-up failed ({}); serving anyway, the first requests may be slow", e.toString());
        } finally {
            done.set(true);
            listeners.forEach(Runnable::run);
        }
    }

    /** What the warm-up did, transport by transport (empty before it ran, or when it is off). */
    List<WarmupResult> results() {
        return List.copyOf(results);
    }

    private void report(WarmupResult r) {
        results.add(r);
        if (r.failed() == 0) {
            LOG.info("gateway warm-up: {} {} calls to its own endpoint in {} ms", r.calls(), r.transport(),
                    r.took().toMillis());
        } else {
            LOG.warn("gateway warm-up: {} of {} {} calls failed ({}); serving anyway, the first requests may be"
                    + " slow", r.failed(), r.calls(), r.transport(), r.firstProblem());
        }
    }

    /** The warm-up has run (or is off): clients' generations are taken. */
    boolean done() {
        return done.get();
    }

    /** Serving: a replica is ready and the warm-up has run (or is off). */
    boolean serving() {
        return done.get() && view.serving();
    }

    /** Runs {@code r} when the warm-up ends. */
    void onDone(Runnable r) {
        listeners.add(r);
    }
}
