package catena.it.runc;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A probe of the pod spec run the way the kubelet runs it: from outside the pod (this machine's
 * network namespace) to the pod's IP, the first check {@code initialDelaySeconds} after the
 * container starts, then every {@code periodSeconds}, each bounded by {@code timeoutSeconds};
 * the state turns true after {@code successThreshold} successes in a row and false after
 * {@code failureThreshold} failures in a row (it starts false, as readiness does). gRPC probes
 * call grpc.health.v1.Health/Check with the probe's service and succeed only on SERVING
 * ({@link ProbeState} keeps the verdict).
 */
final class KubeletProbe {
    private final String what;
    private final Probe probe;
    private final RuncPod pod;
    private final List<Result> results = new ArrayList<>();
    private final ProbeState state;

    /** One check's outcome; {@code stateAfter} is the probe's state once this check is counted. */
    record Result(long nanos, boolean ok, String detail, boolean stateAfter) {
    }

    KubeletProbe(String what, Probe probe, RuncPod pod) {
        this.what = what;
        this.probe = probe;
        this.pod = pod;
        this.state = new ProbeState(orDefault(probe.getSuccessThreshold(), 1), orDefault(probe.getFailureThreshold(), 3));
    }

    /** Schedules the checks on {@code timer} from now (the container's start). */
    void start(ScheduledExecutorService timer) {
        timer.scheduleAtFixedRate(this::checkAndCount, orDefault(probe.getInitialDelaySeconds(), 0) * 1000L,
                orDefault(probe.getPeriodSeconds(), 10) * 1000L, TimeUnit.MILLISECONDS);
    }

    private void checkAndCount() {
        long now = System.nanoTime();
        String detail;
        boolean ok;
        try {
            detail = check();
            ok = detail.startsWith("ok");
        } catch (Exception e) {
            ok = false;
            detail = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        synchronized (this) {
            results.add(new Result(now, ok, detail, state.record(ok)));
        }
    }

    /** One check now; "ok ..." when it passed, else what it saw. */
    String check() throws Exception {
        int timeout = orDefault(probe.getTimeoutSeconds(), 1);
        if (probe.getGrpc() != null) {
            int port = probe.getGrpc().getPort();
            ManagedChannel channel = Grpc.newChannelBuilderForAddress(pod.ip(), port,
                    InsecureChannelCredentials.create()).build();
            try {
                String service = probe.getGrpc().getService() == null ? "" : probe.getGrpc().getService();
                ServingStatus status = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(timeout, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
                return (status == ServingStatus.SERVING ? "ok " : "") + "grpc " + port + " " + status;
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        if (probe.getTcpSocket() != null) {
            int port = port(probe.getTcpSocket().getPort());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(pod.ip(), port), timeout * 1000);
                return "ok tcp " + port + " connected";
            } catch (IOException e) {
                return "tcp " + port + " " + e.getMessage();
            }
        }
        if (probe.getHttpGet() != null) {
            int port = port(probe.getHttpGet().getPort());
            try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(timeout)).build()) {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + pod.ip() + ":" + port
                        + probe.getHttpGet().getPath())).timeout(Duration.ofSeconds(timeout)).build(),
                        HttpResponse.BodyHandlers.discarding());
                return (r.statusCode() >= 200 && r.statusCode() < 400 ? "ok " : "") + "http " + r.statusCode();
            }
        }
        if (probe.getExec() != null) {
            List<String> command = new ArrayList<>(List.of("runc", "exec", pod.id()));
            command.addAll(probe.getExec().getCommand());
            Host.Result r = Host.attempt(command.toArray(String[]::new));
            return (r.exit() == 0 ? "ok " : "") + "exec exit " + r.exit();
        }
        throw new IllegalArgumentException(what + ": a probe with no grpc, tcpSocket, httpGet or exec: " + probe);
    }

    /** A named port of the container (as the kubelet resolves it) or a number. */
    private int port(IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return pod.container().getPorts().stream().filter(p -> port.getStrVal().equals(p.getName()))
                .mapToInt(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(what + ": port '" + port.getStrVal()
                        + "' is not a named port of container " + pod.container().getName()));
    }

    private static int orDefault(Integer value, int unset) {
        return value == null ? unset : value;
    }

    synchronized boolean state() {
        return state.state();
    }

    synchronized List<Result> results() {
        return List.copyOf(results);
    }

    String what() {
        return what;
    }
}
