package catena.gateway.discovery;

import java.time.Instant;

/**
 * What discovery needs to know of one pod of the release.
 *
 * @param name the pod's name (unique in its namespace)
 * @param ip the pod's IP, or empty while it has none
 * @param running true when the pod's phase is Running
 * @param terminating true once the pod has a deletion timestamp (it is going away)
 * @param created the pod's creation time: the oldest pod is the one that may found a cluster
 * @param pekkoPort the container port named {@code pekko}, or 0 when the pod declares none
 */
public record PodView(String name, String ip, boolean running, boolean terminating, Instant created,
                      int pekkoPort) {
    public PodView {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("pod: name=" + name + ", expected a pod name");
        }
        if (ip == null) {
            ip = "";
        }
        if (created == null) {
            throw new IllegalArgumentException("pod " + name + ": created=null, expected its creation time");
        }
        if (pekkoPort < 0 || pekkoPort > 65535) {
            throw new IllegalArgumentException("pod " + name + ": pekkoPort=" + pekkoPort + ", expected 0..65535");
        }
    }

    /** True when other nodes can reach this pod's cluster port now. */
    public boolean reachable() {
        return running && !terminating && !ip.isEmpty() && pekkoPort > 0;
    }

    /** {@code ip:pekkoPort}, the form of a seed node. */
    public String seed() {
        return ip + ":" + pekkoPort;
    }
}
