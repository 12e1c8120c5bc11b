package catena.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import catena.gateway.session.GenerationFailure;
import catena.gateway.session.GenerationOutput;
import catena.gateway.session.GenerationSink;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ServingMetricsTest {
    private final AtomicLong now = new AtomicLong();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ServingMetrics metrics = new ServingMetrics(registry, () -> 3, () -> 2, now::get);

    private static final class Recording implements GenerationSink {
        final List<GenerationOutput> outputs = new ArrayList<>();
        GenerationFailure failure;

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void onOutput(GenerationOutput output) {
            outputs.add(output);
        }

        @Override
        public void onCompleted() {
        }

        @Override
        public void onFailed(GenerationFailure f) {
            failure = f;
        }
    }

    private static GenerationOutput out(int tokens, GenerationOutput.FinishReason finish, int prompt) {
        return new GenerationOutput("", new int[tokens], List.of(), finish,
                finish == null ? null : new GenerationOutput.Usage(prompt, 0));
    }

    @Test
    void shouldMeasureFirstTokenInterTokenAndEndToEndFromTheStreamAndPassItOn() {
        Recording sink = new Recording();
        GenerationSink observed = metrics.observe(sink);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(300));
        observed.onOutput(out(1, null, 0));
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(40));
        observed.onOutput(out(2, null, 0)); // two tokens in 40 ms: two intervals of 20 ms
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
        observed.onOutput(out(1, GenerationOutput.FinishReason.LENGTH, 11));
        observed.onCompleted();

        assertThat(sink.outputs).hasSize(3);
        PrometheusText p = new PrometheusText(registry.scrape());
        assertThat(p.count("catena_time_to_first_token_seconds")).isEqualTo(1);
        assertThat(p.count("catena_inter_token_latency_seconds")).isEqualTo(3);
        assertThat(p.count("catena_e2e_request_latency_seconds")).isEqualTo(1);
        assertThat(registry.get("catena.time.to.first.token").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(300.0);
        assertThat(registry.get("catena.inter.token.latency").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(70.0);
        assertThat(registry.get("catena.e2e.request.latency").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(370.0);
        assertThat(p.value("catena_generation_tokens_total")).isEqualTo(4);
        assertThat(p.value("catena_prompt_tokens_total")).isEqualTo(11);
        assertThat(p.value("catena_request_success_total", "finished_reason", "length")).isEqualTo(1);
        assertThat(p.value("catena_num_requests_running")).isEqualTo(3);
        assertThat(p.value("catena_num_requests_waiting")).isEqualTo(2);
    }

    @Test
    void shouldCountFailuresByKind() {
        Recording sink = new Recording();
        metrics.observe(sink).onFailed(new GenerationFailure(GenerationFailure.Kind.UNAVAILABLE, "gone"));
        assertThat(sink.failure.message()).isEqualTo("gone");
        assertThat(new PrometheusText(registry.scrape()).value("catena_request_failure_total", "kind", "unavailable"))
                .isEqualTo(1);
    }
}
