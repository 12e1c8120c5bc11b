package catena.it.runc;

import java.util.ArrayList;
import java.util.List;

/**
 * A bridge on this machine with one network namespace per pod, joined by a veth pair: what a
 * CNI bridge plugin gives pods on one node. The host keeps {@code .1} of the /24 on the bridge,
 * so clients on the host reach every pod IP directly, as the kubelet's probes do.
 */
final class PodNetwork implements AutoCloseable {
    private final String prefix;
    private final String subnet;
    private final String bridge;
    private final List<String> namespaces = new ArrayList<>();

    /**
     * @param prefix names of the bridge ({@code PREFIX0}), namespaces and host-side veths start with it
     * @param subnet the first three octets of the /24, e.g. {@code 10.213.0}
     */
    PodNetwork(String prefix, String subnet) {
        this.prefix = prefix;
        this.subnet = subnet;
        this.bridge = prefix + "0";
        if (Host.attempt("ip", "link", "show", bridge).exit() == 0) {
            throw new IllegalStateException("bridge " + bridge + " exists: another run is in progress, or a"
                    + " crashed one left it (ip link del " + bridge + ")");
        }
        Host.run("ip", "link", "add", bridge, "type", "bridge");
        Host.run("ip", "addr", "add", hostAddress() + "/24", "dev", bridge);
        Host.run("ip", "link", "set", bridge, "up");
    }

    String hostAddress() {
        return subnet + ".1";
    }

    /** A namespace for the pod with host number {@code n} (2..254); its path for runc and its IP. */
    Attachment attach(int n) {
        String ns = prefix + "-" + n;
        String hostSide = prefix + "h" + n;
        String ip = subnet + "." + n;
        Host.run("ip", "netns", "add", ns);
        namespaces.add(ns);
        Host.run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Host.run("ip", "link", "set", hostSide, "master", bridge, "up");
        Host.run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0");
        Host.run("ip", "-n", ns, "link", "set", "eth0", "up");
        Host.run("ip", "-n", ns, "link", "set", "lo", "up");
        Host.run("ip", "-n", ns, "route", "add", "default", "via", hostAddress());
        return new Attachment("/var/run/netns/" + ns, ip);
    }

    /** Deletes the namespaces (their veth ends go with them) and the bridge. */
    @Override
    public void close() {
        for (String ns : namespaces) {
            Host.attempt("ip", "netns", "del", ns);
        }
        Host.attempt("ip", "link", "del", bridge);
    }

    record Attachment(String namespacePath, String ip) {
    }
}
