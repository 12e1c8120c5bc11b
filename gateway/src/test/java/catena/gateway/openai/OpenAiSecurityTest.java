package catena.gateway.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import catena.gateway.Fixtures;
import catena.gateway.app.CatenaNode;
import catena.gateway.cluster.PlanOwner;
import catena.gateway.model.ServedModel;
import catena.gateway.security.Access;
import catena.gateway.security.ApiKeys;
import catena.gateway.security.PemSslContext;
import catena.gateway.security.TestCertificates;
import catena.gateway.security.TlsFiles;
import catena.worker.engine.StageEngineFactory;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API over TLS (certificates made here) with an API key file, through the official OpenAI client. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpenAiSecurityTest {
    private static final String KEY = "sk-catena-test-1";

    @TempDir
    static Path dir;
    static CatenaNode node;
    static int port;
    static X509TrustManager trust;
    static SSLContext clientTls;

    @BeforeAll
    static void start() throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        Path keys = Files.writeString(dir.resolve("keys"), KEY + "\n");
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        node = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0), ServedModel.open(file),
                StageEngineFactory.MODEL, InProcessServerBuilder.forName(InProcessServerBuilder.generateName()), 8);
        port = node.serveOpenAi("127.0.0.1", 0, new Access(ApiKeys.load(keys),
                new TlsFiles(certs.serverCert(), certs.serverKey(), null)));
        await().atMost(Duration.ofSeconds(60)).until(() -> node.topology().serving());
        TrustManagerFactory tmf = PemSslContext.trust(certs.caCert());
        trust = (X509TrustManager) tmf.getTrustManagers()[0];
        clientTls = PemSslContext.client(certs.caCert());
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl("https://localhost:" + port + "/v1").apiKey(key).maxRetries(0)
                .sslSocketFactory(clientTls.getSocketFactory()).trustManager(trust).build();
    }

    private static CompletionCreateParams params() {
        return CompletionCreateParams.builder().model("stories260K-q8_0.gguf").prompt("Once upon a time")
                .maxTokens(4).temperature(0.0).build();
    }

    @Test
    void shouldCompleteOverTlsWithTheRightKey() {
        OpenAIClient c = client(KEY);
        try {
            Completion done = c.completions().create(params());
            assertThat(done.usage().orElseThrow().completionTokens()).isEqualTo(4);
        } finally {
            c.close();
        }
    }

    @Test
    void shouldAnswerAWrongOrMissingKeyWith401() throws Exception {
        OpenAIClient c = client("sk-wrong");
        try {
            assertThatThrownBy(() -> c.completions().create(params())).isInstanceOf(UnauthorizedException.class);
        } finally {
            c.close();
        }
        HttpResponse<String> r = HttpClient.newBuilder().sslContext(clientTls).build().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + port + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).contains("\"code\":\"invalid_api_key\"").contains("no API key");
    }

    @Test
    void shouldRefuseAClientThatDoesNotTrustTheCertificate() {
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + port + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void shouldRequireAClientCertificateWhenAClientCaIsGiven() throws Exception {
        TestCertificates certs = TestCertificates.create(Files.createDirectories(dir.resolve("mtls")));
        Path file = Fixtures.file("stories/stories260K-q8_0.gguf");
        try (CatenaNode mtls = CatenaNode.embedded(PlanOwner.Settings.forModel(file, false, 1, 1, 0),
                ServedModel.open(file), StageEngineFactory.MODEL,
                InProcessServerBuilder.forName(InProcessServerBuilder.generateName()), 8)) {
            int p = mtls.serveOpenAi("127.0.0.1", 0, new Access(null,
                    new TlsFiles(certs.serverCert(), certs.serverKey(), certs.caCert())));
            SSLContext anonymous = PemSslContext.client(certs.caCert());
            SSLContext withCert = SSLContext.getInstance("TLS");
            withCert.init(keyManagers(certs), PemSslContext.trust(certs.caCert()).getTrustManagers(), null);
            URI models = URI.create("https://localhost:" + p + "/v1/models");
            HttpResponse<String> ok = HttpClient.newBuilder().sslContext(withCert).build()
                    .send(HttpRequest.newBuilder(models).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> HttpClient.newBuilder().sslContext(anonymous).build()
                    .send(HttpRequest.newBuilder(models).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    private static javax.net.ssl.KeyManager[] keyManagers(TestCertificates certs) throws Exception {
        // the client's certificate and its PKCS#8 EC key, from the PEM files the test made
        java.security.KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        java.security.cert.Certificate cert;
        try (InputStream in = Files.newInputStream(certs.clientCert())) {
            cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem = Files.readString(certs.clientKey());
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("EC")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
        ks.setKeyEntry("client", key, new char[0], new java.security.cert.Certificate[] {cert});
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        return kmf.getKeyManagers();
    }
}
