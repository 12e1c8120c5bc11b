package catena.gateway.security;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Real certificates made for a test: a CA, a server certificate it signed for localhost and
 * 127.0.0.1, and a client certificate it signed; PEM files in a directory, keys as PKCS#8.
 */
public record TestCertificates(Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    public static TestCertificates create(Path dir) throws Exception {
        return create(dir, "EC");
    }

    /** With keys of {@code algorithm}: "EC" (P-256) or "RSA" (2048 bits). */
    public static TestCertificates create(Path dir, String algorithm) throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance(algorithm);
        gen.initialize(algorithm.equals("RSA") ? 2048 : 256);
        KeyPair ca = gen.generateKeyPair();
        X500Name caName = new X500Name("CN=Catena Test CA");
        X509Certificate caCert = sign(caName, ca, caName, ca.getPrivate(), true, null);
        KeyPair server = gen.generateKeyPair();
        X509Certificate serverCert = sign(new X500Name("CN=localhost"), server, caName, ca.getPrivate(), false,
                new GeneralNames(new GeneralName[] {new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        KeyPair client = gen.generateKeyPair();
        X509Certificate clientCert = sign(new X500Name("CN=catena-client"), client, caName, ca.getPrivate(), false, null);
        TestCertificates c = new TestCertificates(dir.resolve("ca.pem"), dir.resolve("server.pem"),
                dir.resolve("server.key"), dir.resolve("client.pem"), dir.resolve("client.key"));
        write(c.caCert, caCert);
        write(c.serverCert, serverCert);
        write(c.serverKey, new JcaPKCS8Generator(server.getPrivate(), null).generate());
        write(c.clientCert, clientCert);
        write(c.clientKey, new JcaPKCS8Generator(client.getPrivate(), null).generate());
        return c;
    }

    private static X509Certificate sign(X500Name subject, KeyPair keys, X500Name issuer, PrivateKey issuerKey,
                                        boolean ca, GeneralNames san) throws Exception {
        String signature = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), subject,
                keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (ca) {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        }
        if (san != null) {
            b.addExtension(Extension.subjectAlternativeName, false, san);
        }
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(signature).build(issuerKey)));
    }

    private static void write(Path file, Object pem) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter p = new JcaPEMWriter(w)) {
            p.writeObject(pem);
        }
    }
}
