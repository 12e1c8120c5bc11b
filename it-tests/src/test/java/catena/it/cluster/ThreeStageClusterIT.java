package catena.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import catena.v1.GetModelInfoRequest;
import catena.v1.StageInfo;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A gateway JVM and 3 worker JVMs (joining one by one) serving tiny-gemma3 (4 layers) in 3 stages. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ThreeStageClusterIT {
    private static final String MODEL = "tiny/tiny-gemma3-q8_0.gguf";

    @Test
    void shouldServeOnlyOnceEveryStageIsLoadedAndStreamTheReferenceTokens() throws Exception {
        Path model = Fixtures.file(MODEL);
        try (Cluster cluster = Cluster.gateway(model, 3)) {
            // Up, but no stage yet: NOT_SERVING (UNKNOWN only while the gateway JVM starts).
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                    .until(() -> cluster.health() != ServingStatus.UNKNOWN);
            assertThat(cluster.health()).isEqualTo(ServingStatus.NOT_SERVING);
            cluster.addWorker();
            cluster.addWorker();
            // Two of three stages: still not serving (give the two workers time to join and register).
            Thread.sleep(8000);
            assertThat(cluster.health()).as(cluster.logs()).isEqualTo(ServingStatus.NOT_SERVING);
            cluster.addWorker();
            cluster.awaitServing(Duration.ofSeconds(90));

            var stub = cluster.stub();
            var info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());
            // Three non-empty stages covering the layers in order, each on its own worker JVM.
            assertThat(info.getStagesList()).hasSize(3);
            int next = 0;
            for (StageInfo s : info.getStagesList()) {
                assertThat(s.getFromLayer()).isEqualTo(next);
                assertThat(s.getToLayerExclusive()).isGreaterThan(s.getFromLayer());
                next = s.getToLayerExclusive();
            }
            assertThat(next).isEqualTo(info.getLayerCount());
            assertThat(info.getStagesList()).extracting(StageInfo::getAddress).doesNotHaveDuplicates();
            for (String prompt : new String[] {"rand40", "chat"}) {
                int[] ids = Fixtures.ints(Fixtures.reference(MODEL, prompt).get("prompt"));
                assertThat(Streams.tokens(stub.generate(Streams.greedy(ids, 32)))).as("prompt %s", prompt)
                        .containsExactly(Streams.reference(model, ids, 32));
            }
        }
    }
}
