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

/** A gateway JVM and 3 worker JVMs (joining one by one) serving tiny-llama in 3 stages. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ThreeStageClusterIT {
    private static final String MODEL = "tiny/tiny-llama-q8_0.gguf";

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
            assertThat(stub.getModelInfo(GetModelInfoRequest.getDefaultInstance()).getStagesList())
                    .extracting(StageInfo::getFromLayer, StageInfo::getToLayerExclusive)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(0, 1), org.assertj.core.groups.Tuple.tuple(1, 2),
                            org.assertj.core.groups.Tuple.tuple(2, 3));
            for (String prompt : new String[] {"rand40", "text"}) {
                int[] ids = Fixtures.ints(Fixtures.reference(MODEL, prompt).get("prompt"));
                assertThat(Streams.tokens(stub.generate(Streams.greedy(ids, 32)))).as("prompt %s", prompt)
                        .containsExactly(Streams.reference(model, ids, 32));
            }
        }
    }
}
