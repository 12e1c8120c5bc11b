package catena.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemSslContextTest {
    @TempDir
    Path dir;

    @Test
    void shouldHandshakeWithAClientThatTrustsTheCa() throws Exception {
        TestCertificates c = TestCertificates.create(dir);
        SSLContext server = PemSslContext.server(new TlsFiles(c.serverCert(), c.serverKey(), null));
        SSLContext client = PemSslContext.client(c.caCert());
        try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            Thread t = Thread.ofVirtual().start(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept(); OutputStream out = s.getOutputStream()) {
                    out.write(42);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
                assertThat(s.getInputStream().read()).isEqualTo(42);
                assertThat(s.getSession().getPeerPrincipal().getName()).isEqualTo("CN=localhost");
            }
            t.join();
        }
    }

    @Test
    void shouldSayHowToConvertAKeyThatIsNotPkcs8() throws Exception {
        TestCertificates c = TestCertificates.create(dir);
        Path rsa = Files.writeString(dir.resolve("old.key"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> PemSslContext.server(new TlsFiles(c.serverCert(), rsa, null)))
                .hasMessageContaining("--tls-key=").hasMessageContaining("openssl pkcs8 -topk8");
    }
}
