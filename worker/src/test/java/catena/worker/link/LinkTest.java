package catena.worker.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import catena.worker.actor.StageActor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Real sockets on loopback, real Pekko serialization (the bindings of the worker's reference.conf). */
class LinkTest {
    private static final ActorTestKit KIT = ActorTestKit.create();
    private static final ActorSystem SYSTEM = Adapter.toClassic(KIT.system());
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @AfterAll
    static void shutdown() {
        KIT.shutdownTestKit();
    }

    private static StageActor.Forward forward(long epoch, int rows, int dim) {
        float[] data = new float[rows * dim];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) Math.sin(epoch * 31 + i);
        }
        int[] tokens = new int[rows];
        return new StageActor.Forward(epoch, List.of(new StageActor.Rows(epoch, rows, true, null)), tokens, data, dim,
                epoch);
    }

    @Test
    void shouldDeliverEveryMessageInOrderWithItsBytes() throws Exception {
        BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        try (LinkServer server = LinkServer.start(SYSTEM, "127.0.0.1", 0, got::add);
             LinkSender sender = LinkSender.connect(SYSTEM, server.endpoint(), TIMEOUT)) {
            for (int i = 0; i < 300; i++) {
                Object m = i % 3 == 0 ? forward(i, 1 + i % 7, 64)
                        : new StageActor.NextTokens(i, List.of(new StageActor.Fed(i, i * 7)), i);
                assertThat(sender.send(m)).isTrue();
            }
            for (int i = 0; i < 300; i++) {
                Object m = got.poll(5, TimeUnit.SECONDS);
                if (i % 3 == 0) {
                    StageActor.Forward f = (StageActor.Forward) m;
                    StageActor.Forward want = forward(i, 1 + i % 7, 64);
                    assertThat(f.epoch()).isEqualTo(i);
                    assertThat(f.data()).containsExactly(want.data());
                    assertThat(f.sequences().get(0).count()).isEqualTo(1 + i % 7);
                } else {
                    StageActor.NextTokens t = (StageActor.NextTokens) m;
                    assertThat(t.epoch()).isEqualTo(i);
                    assertThat(t.tokens()).containsExactly(new StageActor.Fed(i, i * 7));
                }
            }
            assertThat(sender.sent()).isEqualTo(300);
        }
    }

    @Test
    void shouldKeepTheOrderWhenTheReceiverFallsBehindAndTheSocketBufferFills() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        // The receiver's thread stops reading at the first message until released: everything after
        // it piles up in the socket buffers and then in the sender's queue, which its flusher drains.
        try (LinkServer server = LinkServer.start(SYSTEM, "127.0.0.1", 0, m -> {
                 got.add(m);
                 try {
                     release.await();
                 } catch (InterruptedException e) {
                     Thread.currentThread().interrupt();
                 }
             });
             LinkSender sender = LinkSender.connect(SYSTEM, server.endpoint(), TIMEOUT)) {
            int n = 40; // 40 x 1 MB: far more than loopback's socket buffers
            for (int i = 0; i < n; i++) {
                assertThat(sender.send(forward(i, 256, 1024))).isTrue();
            }
            release.countDown();
            for (int i = 0; i < n; i++) {
                StageActor.Forward f = (StageActor.Forward) got.poll(10, TimeUnit.SECONDS);
                assertThat(f).as("message %d", i).isNotNull();
                assertThat(f.epoch()).isEqualTo(i);
                assertThat(f.data()[f.data().length - 1]).isEqualTo(forward(i, 256, 1024).data()[256 * 1024 - 1]);
            }
            assertThat(sender.isOpen()).isTrue();
        }
    }

    @Test
    void shouldCloseALinkWhoseReceiverReadsNothingOncePastTheLimit() throws Exception {
        try (ServerSocket frozen = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            LinkSender sender = LinkSender.connect(SYSTEM, "127.0.0.1:" + frozen.getLocalPort(), TIMEOUT);
            try (Socket accepted = frozen.accept()) {
                long bytes = 0;
                int sent = 0;
                while (sender.isOpen() && bytes < 2 * LinkSender.MAX_PENDING_BYTES) {
                    assertThat(sender.send(forward(sent++, 256, 1024))).isTrue();
                    bytes += 256 * 1024 * 4;
                }
                assertThat(sender.isOpen()).as("open after %d bytes to a receiver that reads nothing", bytes)
                        .isFalse();
                assertThat(bytes).isGreaterThan(LinkSender.MAX_PENDING_BYTES);
                assertThat(sender.send(forward(0, 1, 8))).isFalse();
            } finally {
                sender.close();
            }
        }
    }

    @Test
    void shouldReportAClosedLinkOnceTheReceiverIsGone() throws Exception {
        LinkServer server = LinkServer.start(SYSTEM, "127.0.0.1", 0, m -> { });
        LinkSender sender = LinkSender.connect(SYSTEM, server.endpoint(), TIMEOUT);
        assertThat(sender.send(forward(1, 1, 8))).isTrue();
        server.close();
        // The peer's reset reaches the sender with a write after it (the first may still fit the buffer).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        boolean accepted = true;
        while (accepted && System.nanoTime() < deadline) {
            accepted = sender.send(forward(2, 1, 8));
            Thread.sleep(10);
        }
        assertThat(accepted).isFalse();
        assertThat(sender.isOpen()).isFalse();
    }

    @Test
    void shouldCloseAConnectionThatIsNotALinkAndKeepServing() throws Exception {
        BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        try (LinkServer server = LinkServer.start(SYSTEM, "127.0.0.1", 0, got::add)) {
            int port = Integer.parseInt(server.endpoint().substring(server.endpoint().lastIndexOf(':') + 1));
            try (Socket stray = new Socket("127.0.0.1", port)) {
                OutputStream out = stray.getOutputStream();
                out.write("GET / HTTP/1.1\r\n\r\n".getBytes());
                out.flush();
                stray.setSoTimeout(5000);
                assertThat(stray.getInputStream().read()).as("the server closes the stray connection").isEqualTo(-1);
            }
            try (LinkSender sender = LinkSender.connect(SYSTEM, server.endpoint(), TIMEOUT)) {
                sender.send(new StageActor.NextTokens(5, List.of(new StageActor.Fed(1, 2)), 0));
                assertThat(got.poll(5, TimeUnit.SECONDS)).isInstanceOf(StageActor.NextTokens.class);
            }
            assertThat(got).isEmpty();
        }
    }

    @Test
    void shouldRefuseToConnectWhereNothingListens() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> LinkSender.connect(SYSTEM, "127.0.0.1:" + port, TIMEOUT))
                .isInstanceOf(IOException.class).hasMessageContaining("127.0.0.1:" + port);
        assertThatThrownBy(() -> LinkSender.connect(SYSTEM, "no-port", TIMEOUT))
                .isInstanceOf(IOException.class).hasMessageContaining("host:port");
    }
}
