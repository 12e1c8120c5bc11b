package catena.gateway.security;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PEM files a server presents: its certificate chain, its private key (PKCS#8, as
 * {@code openssl req -newkey} writes it), and optionally the CA whose certificates clients must
 * present (mutual TLS; null = no client certificate asked for).
 */
public record TlsFiles(Path certChain, Path privateKey, Path clientCa) {

    /** Checks that each given file is readable, naming the option of the one that is not. */
    public TlsFiles {
        readable("--tls-cert", certChain);
        readable("--tls-key", privateKey);
        if (clientCa != null) {
            readable("--tls-client-ca", clientCa);
        }
    }

    private static void readable(String option, Path file) {
        if (file == null) {
            throw new IllegalArgumentException(option + " is required with TLS (--tls-cert and --tls-key go together)");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException(option + "=" + file + ": no readable file there");
        }
    }
}
