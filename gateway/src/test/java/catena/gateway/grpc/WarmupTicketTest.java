package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.gateway.security.ApiKeys;
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

/** The warm-up mark: only this process's own ticket sets it, and it passes the API-key check. */
class WarmupTicketTest {
    private static final String KEY = "client-key-1";

    @TempDir
    Path dir;
    private final WarmupTicket ticket = new WarmupTicket();
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
                if (WarmupTicket.isWarmup()) {
                    b.addIds(1);
                }
                out.onNext(b.build());
                out.onCompleted();
            }
        };
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(probe, new ApiKeyInterceptor(keys), ticket)).build().start();
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
    void shouldMarkTheCallAndPassTheKeyCheckWhenTheTicketIsThisProcesss() {
        assertThat(call(ticket.metadata()).getIdsCount()).isEqualTo(1);
    }

    @Test
    void shouldTreatTheCallAsAClientsWhenTheTicketIsAnothers() {
        Metadata foreign = new WarmupTicket().metadata();
        assertThatThrownBy(() -> call(foreign)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        foreign.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer " + KEY);
        assertThat(call(foreign).getIdsCount()).as("a wrong ticket with a key: served, not marked").isZero();
    }

    @Test
    void shouldNotMarkAClientsCallWhenItCarriesNoTicket() {
        Metadata keyed = new Metadata();
        keyed.put(ApiKeyInterceptor.AUTHORIZATION, "Bearer " + KEY);
        assertThat(call(keyed).getIdsCount()).isZero();
    }
}
