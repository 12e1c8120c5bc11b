package catena.gateway.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A JDK {@link SSLContext} from the PEM files of {@link TlsFiles}, for servers that take one (the
 * HTTP adapter); gRPC reads the same files through its own credentials. The key must be PKCS#8
 * ("BEGIN PRIVATE KEY", RSA or EC), as {@code openssl req -newkey} and cert-manager write it.
 */
public final class PemSslContext {
    private PemSslContext() {
    }

    public static SSLContext server(TlsFiles tls) {
        try {
            Collection<? extends Certificate> chain;
            try (InputStream in = Files.newInputStream(tls.certChain())) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("--tls-cert=" + tls.certChain() + ": no PEM certificate in it");
            }
            PrivateKey key = privateKey(tls);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("server", key, none, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tls.clientCa() == null ? null : trust(tls.clientCa()).getTrustManagers(),
                    null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls-cert=" + tls.certChain() + ", --tls-key=" + tls.privateKey()
                    + ": cannot make a TLS context (" + e.getMessage() + ")", e);
        }
    }

    /** A client context that trusts the certificates of the PEM file {@code caPem} (and no others). */
    public static SSLContext client(java.nio.file.Path caPem) throws IOException, GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, trust(caPem).getTrustManagers(), null);
        return ctx;
    }

    /** Trust managers for the certificates of the PEM file {@code caPem}. */
    public static TrustManagerFactory trust(java.nio.file.Path caPem) throws IOException, GeneralSecurityException {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ts.setCertificateEntry("ca" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf;
    }

    private static PrivateKey privateKey(TlsFiles tls) throws IOException, GeneralSecurityException {
        String pem = Files.readString(tls.privateKey());
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("--tls-key=" + tls.privateKey() + ": expected a PKCS#8 PEM key"
                    + " ('BEGIN PRIVATE KEY'); convert with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("--tls-key=" + tls.privateKey() + ": not an RSA, EC or Ed25519 key");
    }
}
