package catena.shard.model;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import catena.shard.sample.Sampler;
import java.nio.file.Path;

/**
 * What splitting a model into two pipeline stages costs the engine itself, without the server:
 * single-sequence greedy decode of the whole model against layers [0, cut) then [cut, L).
 * {@code local}: both slices in this JVM, alternating with the whole model round by round.
 * {@code ring0} / {@code ring1}: one slice per process, the activations and the sampled token
 * passed around a plain loopback TCP socket, as two worker JVMs would, but with no actor system.
 * Each round prints compute per pass and wall time per token. Run by {@code .ci/bench-split-ring}.
 */
public final class SplitRingProbe {
    private static final int STEPS = 64;
    private static final int ROUNDS = 8;

    private SplitRingProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SplitRingProbe MODEL CUT local|ring0|ring1 [PORT]");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        int cut = Integer.parseInt(args[1]);
        switch (args[2]) {
            case "local" -> local(path, cut);
            case "ring0", "ring1" -> ring(path, cut, args[2].equals("ring0"), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("mode=" + args[2] + ", expected local, ring0 or ring1");
        }
        System.exit(0);
    }

    private static void local(Path path, int cut) throws Exception {
        Model whole = Model.load(path, LoadOptions.defaults());
        Model first = Model.load(path, LoadOptions.defaults().layers(0, cut));
        Model second = Model.load(path, LoadOptions.defaults().layers(cut, LoadOptions.ALL));
        float[] x = new float[whole.config().dim()];
        float[] logits = new float[whole.config().vocabSize()];
        Batch batch = new Batch();
        for (int round = 0; round < ROUNDS; round++) {
            KvCache c = whole.newCache();
            long t0 = System.nanoTime();
            for (int i = 0, token = 300; i < STEPS; i++) {
                token = step(whole, c, batch, token, x, logits);
            }
            double wholeMs = (System.nanoTime() - t0) / 1e6 / STEPS;
            c.free();
            KvCache c0 = first.newCache();
            KvCache c1 = second.newCache();
            long f0 = 0;
            long f1 = 0;
            for (int i = 0, token = 300; i < STEPS; i++) {
                long t = System.nanoTime();
                step(first, c0, batch, token, x, logits);
                long u = System.nanoTime();
                token = step(second, c1, batch, token, x, logits);
                f1 += System.nanoTime() - u;
                f0 += u - t;
            }
            c0.free();
            c1.free();
            System.out.printf("round %d: whole model %.2f ms/token; two slices %.2f ms (%.2f + %.2f)%n", round, wholeMs,
                    (f0 + f1) / 1e6 / STEPS, f0 / 1e6 / STEPS, f1 / 1e6 / STEPS);
        }
    }

    private static void ring(Path path, int cut, boolean head, int port) throws Exception {
        Model m = Model.load(path, LoadOptions.defaults().layers(head ? 0 : cut, head ? cut : LoadOptions.ALL));
        int dim = m.config().dim();
        float[] x = new float[dim];
        float[] logits = new float[m.config().vocabSize()];
        Batch batch = new Batch();
        Socket s;
        if (head) {
            try (ServerSocket server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                s = server.accept();
            }
        } else {
            s = new Socket(InetAddress.getLoopbackAddress(), port);
        }
        s.setTcpNoDelay(true);
        var in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
        var out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
        for (int round = 0; round < ROUNDS; round++) {
            KvCache c = m.newCache();
            long busy = 0;
            long t0 = System.nanoTime();
            for (int i = 0, token = 300; i < STEPS; i++) {
                if (head) {
                    long t = System.nanoTime();
                    step(m, c, batch, token, x, logits);
                    busy += System.nanoTime() - t;
                    out.writeInt(token);
                    for (float f : x) {
                        out.writeFloat(f);
                    }
                    out.flush();
                    token = in.readInt();
                } else {
                    token = in.readInt();
                    for (int k = 0; k < dim; k++) {
                        x[k] = in.readFloat();
                    }
                    long t = System.nanoTime();
                    token = step(m, c, batch, token, x, logits);
                    busy += System.nanoTime() - t;
                    out.writeInt(token);
                    out.flush();
                }
            }
            c.free();
            System.out.printf("%s round %d: compute %.2f ms/pass, wall %.2f ms/token%n", head ? "stage 0" : "stage 1",
                    round, busy / 1e6 / STEPS, (System.nanoTime() - t0) / 1e6 / STEPS);
        }
        s.close();
    }

    /**
     * One decode step of {@code m}'s slice: embeds {@code token} if the slice starts at layer 0,
     * runs its layers over x, and if it ends with the head returns the greedy next token.
     */
    private static int step(Model m, KvCache c, Batch batch, int token, float[] x, float[] logits) {
        int[] t = {token};
        if (m.hasEmbedding()) {
            m.embed(t, 0, 1, x);
        }
        batch.clear();
        batch.add(c, t, 0, 1);
        m.forward(batch, x);
        if (!m.hasHead()) {
            return token;
        }
        m.logits(x, 0, logits);
        return 300 + Sampler.argmax(logits, 0, logits.length) % 1000;
    }
}
