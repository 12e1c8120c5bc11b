package catena.worker.link;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts links from the previous stage and hands every message read to {@code deliver} (the
 * stage's mailbox), on a platform thread per connection that blocks in {@code read}: one wake-up
 * between the socket and the mailbox. A connection that sends garbage is closed; the stage and the
 * other connections go on.
 */
public final class LinkServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LinkServer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ServerSocket server;
    private final LinkCodec codec;
    private final Consumer<Object> deliver;
    private final String endpoint;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private LinkServer(ServerSocket server, LinkCodec codec, Consumer<Object> deliver, String host) {
        this.server = server;
        this.codec = codec;
        this.deliver = deliver;
        this.endpoint = host + ":" + server.getLocalPort();
    }

    /** Listens on {@code host:port} (0 = any free port), the address the node's remoting advertises. */
    public static LinkServer start(ActorSystem system, String host, int port, Consumer<Object> deliver)
            throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            InetSocketAddress at;
            try {
                at = new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (java.net.UnknownHostException e) {
                // A pod's own DNS name may not resolve yet at start; peers resolve it when they connect.
                LOG.info("activation link: {} does not resolve yet; listening on every interface", host);
                at = new InetSocketAddress(port);
            }
            server.bind(at);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for the activation link on " + host + ":" + port + ": "
                    + e.getMessage(), e);
        }
        LinkServer s = new LinkServer(server, new LinkCodec(system), deliver, host);
        Thread accept = new Thread(s::acceptLoop, "catena-link-accept-" + THREADS.incrementAndGet());
        accept.setDaemon(true);
        accept.start();
        return s;
    }

    /** "host:port" for the plan owner to give the previous stage. */
    public String endpoint() {
        return endpoint;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("activation link {}: accept failed: {}", endpoint, e.toString());
                    try {
                        Thread.sleep(100); // out of descriptors, say: do not spin
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
                continue;
            }
            open.add(socket);
            Thread reader = new Thread(() -> readLoop(socket), "catena-link-in-" + THREADS.incrementAndGet());
            reader.setDaemon(true);
            reader.start();
        }
    }

    private void readLoop(Socket socket) {
        String peer = String.valueOf(socket.getRemoteSocketAddress());
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            int magic = in.readInt();
            if (magic != LinkCodec.MAGIC) {
                LOG.warn("activation link {}: {} is not a Catena link (preface {}); closed", endpoint, peer,
                        Integer.toHexString(magic));
                return;
            }
            LOG.info("activation link {}: connected from {}", endpoint, peer);
            while (!closed) {
                deliver.accept(codec.decode(in));
            }
        } catch (EOFException e) {
            LOG.info("activation link {}: {} closed the connection", endpoint, peer);
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("activation link {}: connection from {} dropped: {}", endpoint, peer, e.toString());
            }
        } finally {
            open.remove(socket);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing link server", e);
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.debug("closing link connection", e);
            }
        }
    }
}
