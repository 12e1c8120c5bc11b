package catena.gateway.security;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one certificate: the server's own leaf, for the gateway's calls to itself over
 * loopback. Its certificate need not name 127.0.0.1, so no host name is checked: the peer is
 * trusted because it presents the very certificate (and so holds the very key) this process serves.
 */
public final class PinnedTrust extends X509ExtendedTrustManager {
    private final byte[] pinned;

    private PinnedTrust(X509Certificate leaf) throws CertificateException {
        this.pinned = leaf.getEncoded();
    }

    /**
     * Pins the first certificate of the PEM chain {@code certChain}; a file that holds none or
     * cannot be read is an {@link IllegalArgumentException} naming {@code --tls-cert}.
     */
    public static PinnedTrust firstOf(Path certChain) {
        try (InputStream in = Files.newInputStream(certChain)) {
            var certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("--tls-cert=" + certChain + ": no PEM certificate in it");
            }
            return new PinnedTrust((X509Certificate) certs.iterator().next());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls-cert=" + certChain + ": " + e.getMessage(), e);
        }
    }

    /** A client TLS context that trusts only the first certificate of {@code certChain} (see {@link #firstOf}). */
    public static SSLContext clientContext(Path certChain) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {firstOf(certChain)}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS context in this JVM: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0 || !Arrays.equals(chain[0].getEncoded(), pinned)) {
            throw new CertificateException("the loopback peer does not present this server's own certificate");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client-side trust manager: it trusts no clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
