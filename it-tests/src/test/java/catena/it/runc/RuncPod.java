package catena.it.runc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One pod of the rendered chart as a runc container: its own OCI bundle unpacked from the image
 * by umoci, its config.json rewritten from the pod spec the way a kubelet and container runtime
 * would (command and args over the image's entrypoint, the env with downward-API fields and
 * ConfigMap keys, the run-as user and group, dropped capabilities, read-only root, the volumes:
 * ConfigMaps as files, emptyDirs as tmpfs, hostPaths bound, /etc/hosts and the hostname), in the
 * network namespace it was given.
 */
final class RuncPod {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Mount points umoci makes for the image's declared volumes; the pod's volumes replace them. */
    private static final Set<String> IMAGE_VOLUMES = Set.of("/models", "/tmp");

    private final String id;
    private final String name;
    private final String ip;
    private final Container container;
    private final Path bundle;
    private final Path log;
    private final List<String> commandLine;

    private RuncPod(String id, String name, String ip, Container container, Path bundle, List<String> commandLine) {
        this.id = id;
        this.name = name;
        this.ip = ip;
        this.container = container;
        this.bundle = bundle;
        this.log = bundle.resolveSibling(name + ".log");
        this.commandLine = commandLine;
    }

    /** What a pod needs besides its spec. */
    record Placement(String name, String namespace, PodNetwork.Attachment network, String hostsFile,
                     Map<String, ConfigMap> configMaps) {
    }

    /**
     * Unpacks the image into {@code dir/<pod name>} and writes the bundle's config.json for the pod's
     * first container; the container is not started.
     */
    static RuncPod create(Path imageLayout, String imageRef, Path dir, String idPrefix, PodSpec spec,
                          Placement at) {
        Container container = spec.getContainers().getFirst();
        Path bundle = dir.resolve(at.name());
        Host.run("umoci", "unpack", "--image", imageLayout + ":" + imageRef, bundle.toString());
        KubeletEnv kubelet = new KubeletEnv(Map.of("metadata.name", at.name(), "metadata.namespace", at.namespace(),
                "status.podIP", at.network().ip()), at.configMaps());
        Map<String, String> env = kubelet.environment(container);
        List<String> line = KubeletEnv.commandLine(container, env);
        if (container.getCommand().isEmpty()) {
            throw new IllegalArgumentException("pod " + at.name() + ": container " + container.getName()
                    + " has no command; this runner takes the chart's command (image.command)");
        }
        try {
            Path configPath = bundle.resolve("config.json");
            ObjectNode config = (ObjectNode) JSON.readTree(configPath.toFile());
            ObjectNode process = (ObjectNode) config.get("process");
            process.put("terminal", false);
            ArrayNode args = process.putArray("args");
            line.forEach(args::add);
            process.set("env", environment((ArrayNode) process.get("env"), at.name(), env));
            user(process, spec.getSecurityContext(), container.getSecurityContext(), at.name());
            // Container runtimes hand their own open-file limit to containers (umoci's 1024 is lower).
            long files = openFilesLimit();
            process.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", files).put("soft", files);
            config.put("hostname", at.name());
            SecurityContext sc = container.getSecurityContext();
            ((ObjectNode) config.get("root")).put("readonly", sc != null && Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem()));
            ObjectNode linux = (ObjectNode) config.get("linux");
            for (var ns : linux.get("namespaces")) {
                if ("network".equals(ns.get("type").asText())) {
                    ((ObjectNode) ns).put("path", at.network().namespacePath());
                }
            }
            Quantity memory = container.getResources() == null || container.getResources().getLimits() == null ? null
                    : container.getResources().getLimits().get("memory");
            if (memory != null) {
                linux.putObject("resources").putObject("memory")
                        .put("limit", Quantity.getAmountInBytes(memory).longValueExact());
            }
            mounts((ArrayNode) config.get("mounts"), spec, container, bundle, at);
            JSON.writerWithDefaultPrettyPrinter().writeValue(configPath.toFile(), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RuncPod(idPrefix + at.name(), at.name(), at.network().ip(), container, bundle, line);
    }

    /** The hard "Max open files" of this process, which runc may grant a container without privileges it lacks. */
    private static long openFilesLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String hard = line.substring("Max open files".length()).trim().split("\\s+")[1];
                return "unlimited".equals(hard) ? 1048576 : Long.parseLong(hard);
            }
        }
        return 1024;
    }

    private static ArrayNode environment(ArrayNode imageEnv, String hostname, Map<String, String> podEnv) {
        Map<String, String> env = new LinkedHashMap<>();
        for (var e : imageEnv) {
            String s = e.asText();
            int eq = s.indexOf('=');
            env.put(s.substring(0, eq), s.substring(eq + 1));
        }
        env.remove("TERM");
        env.put("HOSTNAME", hostname);
        env.putAll(podEnv);
        ArrayNode out = JSON.createArrayNode();
        env.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    private static void user(ObjectNode process, PodSecurityContext pod, SecurityContext container, String name) {
        ObjectNode user = (ObjectNode) process.get("user");
        Long uid = container != null && container.getRunAsUser() != null ? container.getRunAsUser()
                : pod == null ? null : pod.getRunAsUser();
        Long gid = container != null && container.getRunAsGroup() != null ? container.getRunAsGroup()
                : pod == null ? null : pod.getRunAsGroup();
        if (uid != null) {
            user.put("uid", uid);
        }
        if (gid != null) {
            user.put("gid", gid);
        }
        if (pod != null && pod.getFsGroup() != null) {
            user.putArray("additionalGids").add(pod.getFsGroup());
        }
        boolean nonRoot = container != null && Boolean.TRUE.equals(container.getRunAsNonRoot())
                || pod != null && Boolean.TRUE.equals(pod.getRunAsNonRoot());
        if (nonRoot && user.get("uid").asLong() == 0) {
            throw new IllegalStateException("pod " + name + ": runAsNonRoot but the container would run as uid 0"
                    + " (the kubelet refuses to start it)");
        }
        boolean noEscalation = container != null && Boolean.FALSE.equals(container.getAllowPrivilegeEscalation());
        process.put("noNewPrivileges", noEscalation || process.path("noNewPrivileges").asBoolean());
        Capabilities caps = container == null ? null : container.getCapabilities();
        if (caps != null && caps.getDrop().contains("ALL")) {
            ObjectNode c = process.putObject("capabilities");
            for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
                ArrayNode a = c.putArray(set);
                caps.getAdd().forEach(cap -> a.add("CAP_" + cap));
            }
        }
    }

    private static void mounts(ArrayNode mounts, PodSpec spec, Container container, Path bundle, Placement at)
            throws IOException {
        for (int i = mounts.size() - 1; i >= 0; i--) {
            if (IMAGE_VOLUMES.contains(mounts.get(i).get("destination").asText())) {
                mounts.remove(i);
            }
        }
        Map<String, Volume> volumes = new LinkedHashMap<>();
        spec.getVolumes().forEach(v -> volumes.put(v.getName(), v));
        for (VolumeMount m : container.getVolumeMounts()) {
            Volume v = Objects.requireNonNull(volumes.get(m.getName()), () -> "pod " + at.name() + ": volumeMount "
                    + m.getName() + " names no volume");
            boolean ro = Boolean.TRUE.equals(m.getReadOnly());
            if (v.getConfigMap() != null) {
                ConfigMap map = at.configMaps().get(v.getConfigMap().getName());
                Path dir = bundle.resolve("volumes").resolve(m.getName());
                Files.createDirectories(dir);
                for (var e : map.getData().entrySet()) {
                    Files.writeString(dir.resolve(e.getKey()), e.getValue());
                }
                bind(mounts, dir.toString(), m.getMountPath(), ro);
            } else if (v.getEmptyDir() != null) {
                mounts.addObject().put("destination", m.getMountPath()).put("type", "tmpfs").put("source", "tmpfs")
                        .set("options", JSON.createArrayNode().add("rw").add("nosuid").add("nodev").add("mode=1777"));
            } else if (v.getHostPath() != null) {
                bind(mounts, v.getHostPath().getPath(), m.getMountPath(), ro);
            } else {
                throw new IllegalArgumentException("pod " + at.name() + ": volume " + v.getName()
                        + " is neither configMap, emptyDir nor hostPath; render the chart with model.hostPath");
            }
        }
        Path hosts = bundle.resolve("hosts");
        Files.writeString(hosts, at.hostsFile());
        bind(mounts, hosts.toString(), "/etc/hosts", true);
    }

    private static void bind(ArrayNode mounts, String source, String destination, boolean readOnly) {
        mounts.addObject().put("destination", destination).put("type", "bind").put("source", source)
                .set("options", JSON.createArrayNode().add("rbind").add(readOnly ? "ro" : "rw"));
    }

    /** {@code runc run --detach}: the container's output goes to {@code <pod name>.log} beside the bundle. */
    void start() {
        try {
            Process p = new ProcessBuilder("runc", "run", "--detach", "--bundle", bundle.toString(), id)
                    .redirectErrorStream(true).redirectOutput(Redirect.appendTo(log.toFile())).start();
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("runc run " + id + " failed: " + Files.readString(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code runc kill ID KILL}: SIGKILL to the container's init, as an OOM kill or a node loss would. */
    void kill() {
        Host.run("runc", "kill", id, "KILL");
    }

    /** runc's status of the container: running, stopped, ... (or "absent"). */
    String status() {
        Host.Result r = Host.attempt("runc", "state", id);
        if (r.exit() != 0) {
            return "absent";
        }
        try {
            return JSON.readTree(r.output()).get("status").asText();
        } catch (IOException e) {
            return "unreadable: " + r.output();
        }
    }

    /** The container's init process as this machine sees it: the "Uid:" line of its /proc status (real, effective, ...). */
    String initUids() throws IOException {
        long pid = JSON.readTree(Host.run("runc", "state", id)).get("pid").asLong();
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().substring(4).trim();
    }

    /** {@code sh -c script} inside the running container (runc exec); its exit code and output. */
    Host.Result shell(String script) {
        return Host.attempt("runc", "exec", id, "/bin/sh", "-c", script);
    }

    /** Kills and deletes the container (its bundle stays for inspection). */
    void delete() {
        Host.attempt("runc", "delete", "--force", id);
    }

    String id() {
        return id;
    }

    String name() {
        return name;
    }

    String ip() {
        return ip;
    }

    Container container() {
        return container;
    }

    List<String> commandLine() {
        return commandLine;
    }

    String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }
}
