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
import catena.v1.GenerateResponse;
import catena.v1.InferenceGrpc;
import catena.v1.TokenizeRequest;
import catena.worker.engine.StageEngineFactory;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real gateway (stories260K, Netty, TLS with certificates made here, an API key file) and real clients. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GrpcSecurityTest {
    private static final String KEY = "test-key-7f3a";

    @TempDir
    static Path dir;
    static TestCertificates certs;
    static CatenaNode node;
    static List<ManagedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.create(dir);
        Path keys = Files.writeString(dir.resolve("keys"), "# clients\n" + KEY + "\n");
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0), ServedModel.open(file),
                StageEngineFactory.MODEL,
                Grpc.newServerBuilderForPort(0, GrpcTls.serverCredentials(new TlsFiles(certs.serverCert(),
                        certs.serverKey(), null))).intercept(new ApiKeyInterceptor(ApiKeys.load(keys))), 8);
        await().atMost(Duration.ofSeconds(30)).until(() -> node.topology().serving());
    }

    @AfterAll
    static void stop() throws Exception {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        node.close();
    }

    private static ManagedChannel channel(String apiKey) {
        ClientConnection c = new ClientConnection();
        c.tlsCa = certs.caCert();
        c.apiKey = apiKey;
        ManagedChannel ch = c.open("localhost:" + node.port());
        channels.add(ch);
        return ch;
    }

    @Test
    void shouldServeOverTlsWhenTheKeyIsRight() {
        var stub = InferenceGrpc.newBlockingStub(channel(KEY));
        assertThat(stub.tokenize(TokenizeRequest.newBuilder().setText("Once upon a time").build()).getIdsCount())
                .isPositive();
        List<GenerateResponse> out = new ArrayList<>();
        stub.generate(GenerateRequest.newBuilder().setText("Once upon a time").setMaxTokens(4).build())
                .forEachRemaining(out::add);
        assertThat(out.stream().mapToInt(GenerateResponse::getTokenIdsCount).sum()).isEqualTo(4);
    }

    @Test
    void shouldRefuseAMissingOrWrongKeyWithUnauthenticated() {
        for (String key : new String[] {null, "wrong-key"}) {
            var stub = InferenceGrpc.newBlockingStub(channel(key));
            assertThatThrownBy(() -> stub.tokenize(TokenizeRequest.newBuilder().setText("x").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        assertThat(e.getStatus().getDescription()).contains(key == null ? "no API key" : "not one of");
                    });
        }
    }

    @Test
    void shouldAnswerHealthChecksWithoutAKey() {
        HealthCheckResponse r = HealthGrpc.newBlockingStub(channel(null)).check(HealthCheckRequest.newBuilder()
                .setService(HealthStatusManager.SERVICE_NAME_ALL_SERVICES).build());
        assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void shouldNotTalkToAPlaintextClient() {
        ManagedChannel plain = Grpc.newChannelBuilder("localhost:" + node.port(), InsecureChannelCredentials.create())
                .build();
        channels.add(plain);
        assertThatThrownBy(() -> HealthGrpc.newBlockingStub(plain).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.INTERNAL));
    }

    /** The bytes of a lone UTF-16 surrogate, which a client that does not check its strings sends as UTF-8. */
    @Test
    void shouldAnswerInvalidUtf8WithInvalidArgumentNamingTheField() {
        byte[] bad = {'H', 'i', (byte) 0xED, (byte) 0xA0, (byte) 0x80};
        byte[] request = new byte[2 + bad.length];
        request[0] = 0x0A; // field 1 (text), length-delimited: in TokenizeRequest and GenerateRequest alike
        request[1] = (byte) bad.length;
        System.arraycopy(bad, 0, request, 2, bad.length);
        for (String method : new String[] {"Tokenize", "Generate"}) {
            MethodDescriptor<byte[], byte[]> md = MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(method.equals("Generate") ? MethodDescriptor.MethodType.SERVER_STREAMING
                            : MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(InferenceGrpc.SERVICE_NAME + "/" + method)
                    .setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();
            assertThatThrownBy(() -> ClientCalls.blockingServerStreamingCall(channel(KEY), md, CallOptions.DEFAULT,
                    request).forEachRemaining(r -> { }))
                    .as(method)
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription())
                                .startsWith("field text: not valid UTF-8 (byte 0xED at offset 2)");
                    });
        }
    }

    @Test
    void shouldLetTheGenerateCommandConnectWithTheCaAndKey() {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("generate", "--target", "localhost:" + node.port(), "--tls-ca", certs.caCert().toString(),
                    "--api-key", KEY, "--max-tokens", "3", "--json", "Once upon a time");
        } finally {
            System.setOut(saved);
        }
        assertThat(code).as(out.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"tokens\"");
    }

    @Test
    void shouldAskForAKeyOnMetricsWhenConfiguredAndLeaveReadyOpen() throws Exception {
        int port = node.serveMetrics(0, ApiKeys.load(dir.resolve("keys")));
        var http = java.net.http.HttpClient.newHttpClient();
        java.net.URI metrics = java.net.URI.create("http://127.0.0.1:" + port + "/metrics");
        assertThat(http.send(java.net.http.HttpRequest.newBuilder(metrics).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        var keyed = http.send(java.net.http.HttpRequest.newBuilder(metrics).header("Authorization", "Bearer " + KEY)
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(keyed.statusCode()).isEqualTo(200);
        assertThat(keyed.body()).contains("catena_time_to_first_token_seconds");
        assertThat(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                + "/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldRequireAClientCertificateSignedByTheClientCa() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        Server server = Grpc.newServerBuilderForPort(0, GrpcTls.serverCredentials(new TlsFiles(certs.serverCert(),
                certs.serverKey(), certs.caCert()))).addService(health.getHealthService()).build().start();
        try {
            ManagedChannel anonymous = Grpc.newChannelBuilder("localhost:" + server.getPort(),
                    TlsChannelCredentials.newBuilder().trustManager(certs.caCert().toFile()).build()).build();
            ManagedChannel withCert = Grpc.newChannelBuilder("localhost:" + server.getPort(),
                    TlsChannelCredentials.newBuilder().trustManager(certs.caCert().toFile())
                            .keyManager(certs.clientCert().toFile(), certs.clientKey().toFile()).build()).build();
            channels.add(anonymous);
            channels.add(withCert);
            assertThat(HealthGrpc.newBlockingStub(withCert).check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            assertThatThrownBy(() -> HealthGrpc.newBlockingStub(anonymous).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
}
