package catena.worker.link;

import java.io.IOException;
import java.io.NotSerializableException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import org.apache.pekko.actor.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stage's link to the next. {@link #send} writes on the caller's thread (the stage actor's)
 * without blocking: a ring message fits the socket's buffer, so it normally leaves at once, with no
 * thread hand-off. What does not fit waits, in order, for a flusher thread. A receiver that reads
 * nothing while {@link #MAX_PENDING_BYTES} pile up is taken for frozen: the link closes and its
 * messages are lost, as remoting drops them when its queue fills; the failure detector then
 * re-plans that replica and its sessions re-submit.
 */
public final class LinkSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LinkSender.class);
    static final long MAX_PENDING_BYTES = 64L << 20;

    private final String endpoint;
    private final SocketChannel channel;
    private final LinkCodec codec;
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private long pendingBytes;
    private boolean closed;
    private Thread flusher;
    private long sent;

    private LinkSender(String endpoint, SocketChannel channel, LinkCodec codec) {
        this.endpoint = endpoint;
        this.channel = channel;
        this.codec = codec;
    }

    /**
     * Connects to {@code endpoint} ("host:port"), waiting at most {@code timeout}; throws when it cannot
     * (the caller then keeps the ring on remoting).
     */
    public static LinkSender connect(ActorSystem system, String endpoint, Duration timeout) throws IOException {
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0) {
            throw new IOException("link endpoint '" + endpoint + "' is not host:port");
        }
        InetSocketAddress address = new InetSocketAddress(endpoint.substring(0, colon),
                Integer.parseInt(endpoint.substring(colon + 1)));
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().setTcpNoDelay(true);
            channel.socket().connect(address, (int) timeout.toMillis());
            ByteBuffer preface = ByteBuffer.allocate(4).putInt(LinkCodec.MAGIC).flip();
            while (preface.hasRemaining()) {
                channel.write(preface);
            }
            channel.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException("cannot open the activation link to " + endpoint + ": " + e.getMessage(), e);
        }
        return new LinkSender(endpoint, channel, new LinkCodec(system));
    }

    public String endpoint() {
        return endpoint;
    }

    /**
     * Sends {@code message} after every earlier one. False when the link is closed (the receiver went
     * away): the caller decides what to do with the message.
     */
    public synchronized boolean send(Object message) throws NotSerializableException {
        if (closed) {
            return false;
        }
        ByteBuffer frame = codec.encode(message);
        try {
            if (pending.isEmpty()) {
                channel.write(frame);
                if (!frame.hasRemaining()) {
                    sent++;
                    return true;
                }
            }
        } catch (IOException e) {
            fail("write failed: " + e);
            return false;
        }
        pending.add(frame);
        pendingBytes += frame.remaining();
        sent++;
        if (pendingBytes > MAX_PENDING_BYTES) {
            fail(pendingBytes + " bytes unread by the receiver");
            return true; // lost with the link, not the caller's to resend
        }
        if (flusher == null) {
            flusher = new Thread(this::flushLoop, "catena-link-out-" + endpoint);
            flusher.setDaemon(true);
            flusher.start();
        }
        notifyAll();
        return true;
    }

    /** Messages accepted so far. */
    public synchronized long sent() {
        return sent;
    }

    public synchronized boolean isOpen() {
        return !closed;
    }

    private void flushLoop() {
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_WRITE);
            while (true) {
                synchronized (this) {
                    while (pending.isEmpty() && !closed) {
                        wait();
                    }
                    if (closed) {
                        return;
                    }
                }
                selector.select(1000);
                selector.selectedKeys().clear();
                synchronized (this) {
                    while (!pending.isEmpty() && !closed) {
                        ByteBuffer head = pending.peek();
                        int n = channel.write(head);
                        pendingBytes -= n;
                        if (head.hasRemaining()) {
                            break;
                        }
                        pending.poll();
                    }
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                fail("write failed: " + e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fail(String why) {
        if (!closed) {
            LOG.warn("activation link to {} closed: {}", endpoint, why);
        }
        closeNow();
    }

    private void closeNow() {
        closed = true;
        pending.clear();
        pendingBytes = 0;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing link", e);
        }
        notifyAll();
    }

    @Override
    public synchronized void close() {
        closeNow();
    }
}
