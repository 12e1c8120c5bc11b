package catena.gateway.app;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How a client command reaches the gateway: plain or TLS, with or without an API key. A picocli mixin. */
public final class ClientConnection {
    @Option(names = "--tls-ca", paramLabel = "PEM", description = "Connect over TLS, trusting this CA certificate")
    Path tlsCa;

    @Option(names = "--tls", description = "Connect over TLS, trusting the JVM's default CAs")
    boolean tls;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Send 'authorization: Bearer KEY' (default: the"
            + " CATENA_API_KEY environment variable, if set)")
    String apiKey = System.getenv("CATENA_API_KEY");

    /** A JDK TLS context trusting {@code --tls-ca} (for HTTP clients). */
    javax.net.ssl.SSLContext sslContext() {
        try {
            return catena.gateway.security.PemSslContext.client(tlsCa);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls-ca=" + tlsCa + ": " + e.getMessage(), e);
        }
    }

    /** A channel to {@code target} with these settings. */
    public ManagedChannel open(String target) {
        return open(target, false);
    }

    /**
     * As {@link #open(String)}, the calls' callbacks run on the transport's own threads instead of
     * being handed to an executor: for the load generators, whose callbacks only record a time and
     * never block. That hand-off woke a thread for every streamed message, CPU the benchmark took
     * from the cores it measures (.ci/bench-cpu: ~16,500 wake-ups of grpc-default-executor per
     * 16,384 tokens).
     */
    public ManagedChannel openForNonBlockingCallbacks(String target) {
        return open(target, true);
    }

    private ManagedChannel open(String target, boolean direct) {
        ChannelCredentials credentials = InsecureChannelCredentials.create();
        if (tlsCa != null || tls) {
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            if (tlsCa != null) {
                if (!Files.isReadable(tlsCa)) {
                    throw new IllegalArgumentException("--tls-ca=" + tlsCa + ": no readable file there");
                }
                try {
                    b.trustManager(tlsCa.toFile());
                } catch (IOException e) {
                    throw new UncheckedIOException("--tls-ca=" + tlsCa + ": " + e.getMessage(), e);
                }
            }
            credentials = b.build();
        }
        var builder = Grpc.newChannelBuilder(target, credentials);
        if (direct) {
            builder.directExecutor();
        }
        if (apiKey != null && !apiKey.isBlank()) {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey.strip());
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return builder.build();
    }
}
