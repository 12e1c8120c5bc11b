package catena.gateway.metrics;

import catena.gateway.session.GenerationFailure;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The gateway's serving metrics. {@link #observe} wraps a generation's sink, so every transport
 * (gRPC, HTTP) is measured the same way, at the moment its output leaves the session.
 *
 * <p>Histogram buckets are those of vLLM's metrics of the same meaning, so dashboards and the
 * Gateway API Inference Extension read them alike.
 */
public final class ServingMetrics {
    static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
        2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
    static final double[] ITL_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
        5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
    static final double[] E2E_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
        60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

    private final MeterRegistry registry;
    private final LongSupplier nanoClock;
    private final Timer ttft;
    private final Timer itl;
    private final Timer e2e;
    private final Timer queue;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter routedTokens;
    private final Counter routedCachedTokens;

    /**
     * Metrics in {@code registry}; {@code running} and {@code waiting} tell the requests the
     * gateway runs with a replica and those waiting for one (or for room in it).
     */
    public ServingMetrics(MeterRegistry registry, IntSupplier running, IntSupplier waiting, LongSupplier nanoClock) {
        this.registry = registry;
        this.nanoClock = nanoClock;
        this.ttft = histogram("catena.time.to.first.token", "Time from the request's arrival to its first token.",
                TTFT_BUCKETS);
        this.itl = histogram("catena.inter.token.latency", "Time between two tokens of a stream (one sample per"
                + " token; tokens delivered together share the interval).", ITL_BUCKETS);
        this.e2e = histogram("catena.e2e.request.latency", "Time from the request's arrival to its last token.",
                E2E_BUCKETS);
        this.queue = histogram("catena.request.queue.time", "Time from the request's arrival until it was sent to"
                + " a replica (waiting while none is ready); a stage's own admission wait shows in TTFT.", E2E_BUCKETS);
        this.promptTokens = Counter.builder("catena.prompt.tokens").description("Prompt tokens of finished requests.")
                .register(registry);
        this.generationTokens = Counter.builder("catena.generation.tokens")
                .description("Tokens generated and sent to clients.").register(registry);
        this.routedTokens = Counter.builder("catena.route.prefix.tokens").description("Prompt tokens in full KV"
                + " blocks of requests routed with prefix affinity.").register(registry);
        this.routedCachedTokens = Counter.builder("catena.route.prefix.cached.tokens").description("Of those, the"
                + " tokens the chosen replica was believed to cache (the gateway's mirror).").register(registry);
        Gauge.builder("catena.num.requests.running", running::getAsInt)
                .description("Requests running on a replica now.").register(registry);
        Gauge.builder("catena.num.requests.waiting", waiting::getAsInt)
                .description("Requests waiting for a replica or for room in one.").register(registry);
    }

    private Timer histogram(String name, String help, double[] bucketsSeconds) {
        Duration[] slos = new Duration[bucketsSeconds.length];
        for (int i = 0; i < slos.length; i++) {
            slos[i] = Duration.ofNanos(Math.round(bucketsSeconds[i] * 1e9));
        }
        return Timer.builder(name).description(help).serviceLevelObjectives(slos).register(registry);
    }

    /**
     * A request was routed: {@code blockTokens} prompt tokens in full KV blocks, of which the chosen
     * replica was believed (by this gateway's mirror) to cache {@code cachedTokens}.
     */
    public void routed(int blockTokens, int cachedTokens) {
        routedTokens.increment(blockTokens);
        routedCachedTokens.increment(cachedTokens);
    }

    /** A request waited {@code nanos} for its first replica. */
    public void queued(long nanos) {
        queue.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** {@code sink}, measured; the request arrived now. */
    public GenerationSink observe(GenerationSink sink) {
        return new Observed(sink, nanoClock.getAsLong());
    }

    private Counter finished(String reason) {
        return Counter.builder("catena.request.success").tag("finished_reason", reason)
                .description("Requests finished, by why they finished.").register(registry);
    }

    private Counter failed(GenerationFailure.Kind kind) {
        return Counter.builder("catena.request.failure").tag("kind", kind.name().toLowerCase(Locale.ROOT))
                .description("Requests that ended with an error, by kind.").register(registry);
    }

    /** Distribution of prompt lengths, for sizing KV memory. */
    DistributionSummary promptLengths() {
        return DistributionSummary.builder("catena.request.prompt.tokens").description("Prompt tokens per request.")
                .register(registry);
    }

    private final class Observed implements GenerationSink {
        private final GenerationSink out;
        private final long arrived;
        private long last = -1;

        Observed(GenerationSink out, long arrived) {
            this.out = out;
            this.arrived = arrived;
        }

        @Override
        public boolean isReady() {
            return out.isReady();
        }

        @Override
        public void onOutput(GenerationOutput o) {
            long now = nanoClock.getAsLong();
            int n = o.tokenIds().length;
            if (n > 0) {
                if (last < 0) {
                    ttft.record(now - arrived, java.util.concurrent.TimeUnit.NANOSECONDS);
                    for (int i = 1; i < n; i++) {
                        itl.record(0, java.util.concurrent.TimeUnit.NANOSECONDS);
                    }
                } else {
                    long each = (now - last) / n;
                    for (int i = 0; i < n; i++) {
                        itl.record(each, java.util.concurrent.TimeUnit.NANOSECONDS);
                    }
                }
                last = now;
                generationTokens.increment(n);
            }
            if (o.last()) {
                e2e.record(now - arrived, java.util.concurrent.TimeUnit.NANOSECONDS);
                finished(o.finishReason().name().toLowerCase(Locale.ROOT)).increment();
                if (o.usage() != null) {
                    promptTokens.increment(o.usage().promptTokens());
                    promptLengths().record(o.usage().promptTokens());
                }
            }
            out.onOutput(o);
        }

        @Override
        public void onCompleted() {
            out.onCompleted();
        }

        @Override
        public void onFailed(GenerationFailure failure) {
            failed(failure.kind()).increment();
            out.onFailed(failure);
        }
    }
}
