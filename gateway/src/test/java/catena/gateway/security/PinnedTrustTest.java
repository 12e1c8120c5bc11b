package catena.gateway.security;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's trust in itself: exactly its own certificate, whatever host name the engine has. */
class PinnedTrustTest {
    @TempDir
    static Path dir;
    static TestCertificates certs;
    static PinnedTrust trust;

    @BeforeAll
    static void make() throws Exception {
        certs = TestCertificates.create(dir);
        trust = PinnedTrust.firstOf(certs.serverCert());
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void shouldTrustItsOwnCertificateWhenTheEngineNamesAnotherHost() throws Exception {
        SSLEngine elsewhere = SSLContext.getDefault().createSSLEngine("not-in-the-certificate.example", 443);
        X509Certificate[] own = {read(certs.serverCert()), read(certs.caCert())};
        assertThatCode(() -> trust.checkServerTrusted(own, "ECDHE_RSA", elsewhere)).doesNotThrowAnyException();
    }

    @Test
    void shouldRefuseAnyOtherCertificateWhenTheSameCaSignedIt() throws Exception {
        X509Certificate[] other = {read(certs.clientCert()), read(certs.caCert())};
        assertThatThrownBy(() -> trust.checkServerTrusted(other, "ECDHE_RSA")).isInstanceOf(CertificateException.class);
        X509Certificate[] ca = {read(certs.caCert())};
        assertThatThrownBy(() -> trust.checkServerTrusted(ca, "ECDHE_RSA")).isInstanceOf(CertificateException.class);
    }

    @Test
    void shouldRefuseToJudgeClientsWhenAskedTo() throws Exception {
        X509Certificate[] own = {read(certs.serverCert())};
        assertThatThrownBy(() -> trust.checkClientTrusted(own, "RSA")).isInstanceOf(CertificateException.class);
    }

    @Test
    void shouldNameTheOptionWhenTheFileHoldsNoCertificate() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> PinnedTrust.firstOf(empty)).hasMessageContaining("--tls-cert=" + empty);
    }
}
