package catena.gateway.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.Fixtures;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.grpc.ApiKeyInterceptor;
import catena.gateway.grpc.GrpcTls;
import catena.gateway.model.ServedModel;
import catena.gateway.security.ApiKeys;
import catena.gateway.security.TestCertificates;
import catena.gateway.security.TlsFiles;
import catena.v1.GenerateRequest;
import catena.v1.InferenceGrpc;
import catena.worker.actor.StageActor;
import catena.worker.engine.StageEngineFactory;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real gateway (stories260K, gRPC on Netty and the HTTP API, both over TLS, an API key file) with
 * one warm-up round: it sends both its own endpoints generations, past TLS (trusting its own
 * certificate) and the key check (by its secret), before health turns SERVING, and they are not
 * counted as traffic.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayWarmupTest {
    private static final String KEY = "warmup-test-key";

    @TempDir
    Path dir;

    @Test
    void shouldRunGenerationsThroughItsOwnEndpointBeforeServingAndLeaveTheMetricsAlone() throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        Path keys = Files.writeString(dir.resolve("keys"), KEY + "\n");
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        TlsFiles tls = new TlsFiles(certs.serverCert(), certs.serverKey(), null);
        var settings = new CatenaNode.GatewaySettings(8, Duration.ofSeconds(10),
                CatenaNode.GatewaySettings.DEFAULT_PREFIX_WEIGHT, 1, GrpcTls.selfCredentials(tls));
        try (CatenaNode node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0), 1,
                ServedModel.open(file), StageEngineFactory.MODEL, StageSettings.defaults(),
                Grpc.newServerBuilderForPort(0, GrpcTls.serverCredentials(tls))
                        .intercept(new ApiKeyInterceptor(ApiKeys.load(keys))), settings)) {
            ClientConnection c = new ClientConnection();
            c.tlsCa = certs.caCert();
            c.apiKey = KEY;
            ManagedChannel channel = c.open("localhost:" + node.port());
            try {
                // A replica is ready but the warm-up has not run: clients are turned away, retryably.
                await().atMost(Duration.ofSeconds(60)).until(() -> node.topology().serving());
                assertThatThrownBy(() -> InferenceGrpc.newBlockingStub(channel)
                        .generate(GenerateRequest.newBuilder().setText("Once").setMaxTokens(1).build()).hasNext())
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).contains("warming up");
                        });
                node.serveOpenAi("127.0.0.1", 0, new catena.gateway.security.Access(ApiKeys.load(keys), tls));
                node.startWarmup();
                var health = HealthGrpc.newBlockingStub(channel);
                await().pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(60)).until(() ->
                        health.check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING);
                // Read at once: whatever the stage ran by now, it ran before health said SERVING.
                assertThat(node.warmupResults()).extracting(r -> r.transport() + " " + r.failed() + " failed")
                        .containsExactly("gRPC 0 failed", "HTTP 0 failed");
                assertThat(node.warmupResults()).allSatisfy(r -> assertThat(r.calls()).isPositive());
                List<StageActor.StageStats> stats = node.client().stats().toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertThat(stats).hasSize(1);
                assertThat(stats.get(0).batches()).as("passes of the warm-up's generations").isPositive();
                // One round: one call alone, then two at once (so that real models batch them). Whether the two
                // share a pass is not asserted: on this 260K-parameter model a call ends in about a millisecond,
                // so on a busy machine the second may start after the first ended (it did, in CI).
                assertThat(node.warmupResults().getFirst().calls()).as("gRPC warm-up calls").isEqualTo(3);
                assertThat(node.client().activeSessions()).as("the warm-up had ended").isZero();

                var ttft = node.meters().get("catena.time.to.first.token").timer();
                var tokens = node.meters().get("catena.generation.tokens").counter();
                assertThat(ttft.count()).as("warm-up generations are not traffic").isZero();
                assertThat(tokens.count()).isZero();

                InferenceGrpc.newBlockingStub(channel)
                        .generate(GenerateRequest.newBuilder().setText("Once upon a time").setMaxTokens(3).build())
                        .forEachRemaining(r -> { });
                assertThat(ttft.count()).as("a client's generation is").isEqualTo(1);
                assertThat(tokens.count()).isEqualTo(3.0);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
