package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.gateway.security.ApiKeys;
import catena.gateway.security.WarmupSecret;
import catena.v1.InferenceGrpc;
import catena.v1.TokenizeRequest;
import catena.v1.TokenizeResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-up mark: only this process's own secret sets it, and it passes the API-key check. */
class WarmupInterceptorTest {
    private static final String KEY = "client-key-1";

    @TempDir
    Path dir;
    private final WarmupSecret secret = new WarmupSecret();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        ApiKeys keys = ApiKeys.load(Files.writeString(dir.resolve("keys"), KEY + "\n"));
        // Reports whether the handler saw the warm-up mark: one id if so, none if not.
        var probe = new InferenceGrpc.InferenceImplBase() {
            @Override
            public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> out) {
                TokenizeResponse.Builder b = TokenizeResponse.newBuilder();
                if (WarmupInterceptor.isWarmup()) {
                    b.addIds(1);
                }
                out.onNext(b.build());
                out.onCompleted();
            }
        };
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(probe, new ApiKeyInterceptor(keys),
                        new WarmupInterceptor(secret))).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private TokenizeResponse call(Metadata headers) {
        return InferenceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .tokenize(TokenizeRequest.newBuilder().setText("x").build());
    }

    @Test
    void shouldMarkTheCallAndPassTheKeyCheckWhenTheSecretIsThisProcesss() {
        assertThat(call(WarmupInterceptor.metadata(secret)).getIdsCount()).isEqualTo(1);
    }

    @Test
    void shouldTreatTheCallAsAClientsWhenTheSecretIsAnothers() {
        Metadata foreign = WarmupInterceptor.metadata(new WarmupSecret());
        assertThatThrownBy(() -> call(foreign)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        foreign.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer " + KEY);
        assertThat(call(foreign).getIdsCount()).as("a wrong secret with a key: served, not marked").isZero();
    }

    @Test
    void shouldNotMarkAClientsCallWhenItCarriesNoSecret() {
        Metadata keyed = new Metadata();
        keyed.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer " + KEY);
        assertThat(call(keyed).getIdsCount()).isZero();
    }
}
