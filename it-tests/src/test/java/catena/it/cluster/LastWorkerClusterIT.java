package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import catena.v1.InferenceGrpc;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The only replica loses its only worker: streams end UNAVAILABLE within the bounded wait and
 * health turns NOT_SERVING; a worker started again brings the gateway back to SERVING by itself.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LastWorkerClusterIT {
    private static final String MODEL = "stories/stories260K-q8_0.gguf";

    @Test
    void shouldEndStreamsUnavailableAndServeAgainWhenAWorkerComesBack() throws Exception {
        Path model = Fixtures.file(MODEL);
        int[] prompt = Fixtures.ints(Fixtures.reference(MODEL, "once").get("prompt"));
        try (Cluster cluster = Cluster.gateway(model, 1, "1", "--failover-wait", "3000")) {
            cluster.addWorker();
            cluster.awaitServing(Duration.ofSeconds(90));
            PausedStream stream = PausedStream.start(InferenceGrpc.newStub(cluster.channel()),
                    Streams.greedy(prompt, 100), 5);
            await().atMost(Duration.ofSeconds(30)).until(() -> stream.received() >= 5);
            long killed = System.nanoTime();
            cluster.worker(0).kill();
            stream.resume();
            Status status = stream.done().get(60, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - killed) / 1e9;
            assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(status.getDescription()).contains("no pipeline replica can run the sequence");
            // Detection (about 2 s on loopback) + the 3 s bounded wait, with room for a loaded machine.
            assertThat(seconds).isLessThan(20);
            await().atMost(Duration.ofSeconds(20)).until(() -> cluster.health() == ServingStatus.NOT_SERVING);

            cluster.addWorker();
            cluster.awaitServing(Duration.ofSeconds(90));
            assertThat(Streams.tokens(cluster.stub().generate(Streams.greedy(prompt, 16)))).hasSize(16);
        }
    }
}
