package catena.gateway.grpc;

import catena.gateway.security.PinnedTrust;
import catena.gateway.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;

/** gRPC server credentials for {@link TlsFiles}: TLS, and client certificates required when a client CA is given. */
public final class GrpcTls {
    private GrpcTls() {
    }

    public static ServerCredentials serverCredentials(TlsFiles tls) {
        try {
            TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder()
                    .keyManager(tls.certChain().toFile(), tls.privateKey().toFile());
            if (tls.clientCa() != null) {
                b.trustManager(tls.clientCa().toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (IOException e) {
            throw new UncheckedIOException("TLS files " + tls.certChain() + ", " + tls.privateKey() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Credentials for this server's calls to itself: TLS that trusts only its own certificate
     * ({@link PinnedTrust}). No client certificate: under mutual TLS the server refuses them.
     */
    public static ChannelCredentials selfCredentials(TlsFiles tls) {
        return TlsChannelCredentials.newBuilder().trustManager(PinnedTrust.firstOf(tls.certChain())).build();
    }
}
